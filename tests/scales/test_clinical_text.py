"""What a clinician reads of a scale names published sources, not the project's files or ids.

Every criterion's rule, source and note and every scale's title, citation and interpretations
appear in results, on the scale pages and in the dashboard; they cite authors, years, journals
and tables (the developers' guide: never file names or internal ids).  A setting a user can
change may be named in plain type ("the setting fio2_rule"), never as code in double backticks.
"""

from __future__ import annotations

import re

import pytest

from crswatch.scales import ALL_SCALES, Scale
from crswatch.scales._criteria import numbered_items

#: A file name, a section of the project's criteria document (the ASTCT papers' own footnote
#: symbol, "footnote §", is theirs), its discrepancy register's ids, a seed-paper number or a
#: code name in double backticks.
_INTERNAL = re.compile(
    r"\.(md|py|yaml|csv)\b|clinical-criteria|(?<!footnote )§|\bdiscrepancy D\d+|\bD\d{1,2}\b"
    r"|``[^`]+``|\b[Ss]eed \d+"
)


def _texts(scale: Scale) -> list[str]:
    texts = [scale.title, scale.citation, *scale.interpretations]
    for criterion in scale.criteria:
        texts += [criterion.source_text, criterion.source_ref, criterion.note or ""]
    return texts


@pytest.mark.parametrize("key", sorted(ALL_SCALES))
def test_scale_text_cites_published_sources_only(key: str) -> None:
    found = [text for text in _texts(ALL_SCALES[key]) if _INTERNAL.search(text)]
    assert not found, found


@pytest.mark.parametrize(
    "internal",
    [
        "Porter 2018, grade 3; clinical-criteria.md §6.3 D14",
        "Fever is not required for grades 2-4 (clinical-criteria §1.5).",
        "BiPAP is grade 3 here (discrepancy register §8 D4).",
        "High dose: Lee 2014 Table 3 held >= 3 h (seed 003_f311ac7ac5f2c496.txt)",
        "a high dose is Lee 2014 Table 3 (seed 003) held for >= 3 hours",
        "estimated by ``StateParameters.fio2_rule``",
        "creatinine (``creatinine_v4``)",
        "graded by duration (§6.3 D6, D7)",
    ],
)
def test_the_check_finds_an_internal_reference(internal: str) -> None:
    assert _INTERNAL.search(internal)


@pytest.mark.parametrize(
    "clinical",
    [
        "Lee 2019 (ASTCT), BBMT 25:625, Table 3, grade 2",
        "High dose: Lee 2014 Table 3 (Blood 124:188) held >= 3 h (interpretation 3).",
        "oedema and ICP signs are excluded (footnote §: haemorrhage is not a feature)",
        "estimated by the chosen flow-to-FiO2 conversion (the setting fio2_rule)",
        "Seizure: a seed-like word such as 'seeded' or D-dimer is not an id",
    ],
)
def test_the_check_lets_clinical_language_through(clinical: str) -> None:
    assert not _INTERNAL.search(clinical)


def test_a_wrapped_line_that_begins_with_a_number_stays_in_its_interpretation() -> None:
    doc = """Header.

1. Oxygen short of invasive ventilation is grade
   3.  "Mechanical ventilation" is grade 4.
2. Second.
"""
    assert numbered_items(doc) == (
        'Oxygen short of invasive ventilation is grade 3.  "Mechanical ventilation" is grade 4.',
        "Second.",
    )
