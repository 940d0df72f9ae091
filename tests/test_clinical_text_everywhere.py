"""Text a clinician reads outside the scales cites published sources, not the project's ids.

The developers' guide: text a clinician reads is clinical language (full citations, clinical
labels, conventional units), never file names, internal ids or code names.  Decision 0070 made
the scales' texts so (``tests/scales/test_clinical_text.py``); this test covers the rest: the HLH
screens, the management rule sets, the blinatumomab and bispecific label texts, the generated
scale and product pages, the dashboard's chart notes and templates, the cohort report and the
command-line help.  Two kinds of check: what the code returns (screens, rule tables, plans,
pages, help), and every string literal that is not a docstring in the modules that write such
text (chart notes and report captions are built inside functions), plus the templates' text
outside their comments.  A setting a user can change may be named in plain type ("the setting
hlh2004_fever_c").
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import typer

import crswatch
from tests.builders import ev

#: A project file (criteria document, decision record, module), a section of the criteria
#: document (the ASTCT papers' own "footnote §" is theirs), a discrepancy-register id written
#: as a reference ("discrepancy D7", "(D10)", "rule, D7;"; day labels such as "D1 (baseline)" or
#: "typically <D5" are clinical), a seed-paper number, a decision number, a code name in double
#: backticks or a parameter class's attribute.  Input files a user supplies ("events.csv") are
#: theirs and may be named.
_INTERNAL = re.compile(
    r"[\w/-]+\.(md|py|yaml|txt)\b|clinical-criteria|(?<!footnote )§|\bdiscrepancy D\d+"
    r"|[(,;] ?D\d{1,2}[;),]|\b[Ss]eed \d+|\b[Dd]ecision (record )?\d{2,4}\b|``[^`]+``"
    r"|\b\w+Parameters\.\w+"
)

_SRC = Path(crswatch.__file__).parent

#: Modules whose string literals reach a clinician (notes, evidence, labels, captions, help).
#: Input and storage code is left out: it names the files a user supplies.
_MODULE_GLOBS = (
    "hlh/*.py",
    "management/*.py",
    "regimens/**/*.py",
    "biomarkers/*.py",
    "web/*.py",
    "cohort/_report*.py",
    "cli/*.py",
    "scales/_docs.py",
)
_TEMPLATE_GLOBS = ("web/templates/**/*.html", "cohort/templates/*.j2")


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    """Every string inside ``value`` (dataclasses, mappings, sequences); callables are skipped."""
    if depth > 8:
        return
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _strings(getattr(value, field.name), depth + 1)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item, depth + 1)


def _literals(source: str) -> Iterator[tuple[int, str]]:
    """The string literals of a module that are not docstrings, with their line.

    A string standing alone as a statement is a docstring (of a module, class or function, or
    an attribute's docstring after its assignment): developers read it, clinicians do not.
    """
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        for statement in body if isinstance(body, list) else []:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                docstrings.add(id(statement.value))
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            yield node.lineno, node.value


def _template_text(source: str) -> str:
    """A template without its Jinja comments (notes for developers)."""
    return re.sub(r"\{#.*?#\}", "", source, flags=re.DOTALL)


def _found(texts: Any) -> list[str]:
    return sorted({text for text in _strings(texts) if _INTERNAL.search(text)})


# -- what the code returns ---------------------------------------------------------------------


def test_hlh_screen_texts() -> None:
    from tests.hlh._support import screens

    events = [
        ev(5, "temperature", 39.6, "Cel"),
        ev(5, "ferritin", 12000, "ng/mL"),
        ev(5, "fibrinogen", 120, "mg/dL"),
        ev(5, "triglycerides", 300, "mg/dL"),
        ev(5, "anc", 0.8, "10*3/uL"),
    ]
    result = screens(events)
    assert result.results
    assert _found([screen.to_dict() for screen in result.results.values()]) == []


def test_management_rule_set_texts() -> None:
    from crswatch.management import RULESETS, STEROID_EQUIVALENCE_SOURCE

    texts: list[Any] = [STEROID_EQUIVALENCE_SOURCE]
    for ruleset in RULESETS.values():
        texts += [ruleset.title, ruleset.citation, ruleset.notes]
        for rule in ruleset.rules:
            texts += [rule.because, rule.text, rule.timing, rule.reference, rule.quote]
            texts += [rule.note, rule.paediatric]
    assert _found(texts) == []


def test_label_rule_and_plan_texts() -> None:
    from crswatch.regimens import (
        LABEL_VERSIONS,
        PRODUCTS,
        RULES,
        SOURCES,
        plan_blinatumomab,
        render_product_markdown,
    )

    plans = [
        plan_blinatumomab(30.0, bsa_m2=1.0, age_years=8, region="eu"),
        plan_blinatumomab(70.0, bsa_m2=1.8, age_years=None),
    ]
    pages = [render_product_markdown(product) for product in PRODUCTS.values()]
    assert _found([RULES, SOURCES, LABEL_VERSIONS, plans, pages]) == []


def test_generated_scale_pages() -> None:
    from crswatch.scales import ALL_SCALES
    from crswatch.scales._docs import render_markdown

    assert _found([render_markdown(scale) for scale in ALL_SCALES.values()]) == []


def _help_texts() -> Iterator[tuple[str, str]]:
    from crswatch.cli._app import app
    from crswatch.cli._lazy import COMMANDS

    for entry in COMMANDS.values():
        for module in entry.modules:
            importlib.import_module(f"crswatch.cli.{module}")

    def walk(command: Any, path: str) -> Iterator[tuple[str, str]]:
        context = typer.Context(command, info_name=path)
        yield path, command.get_help(context)
        if hasattr(command, "list_commands"):
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name), f"{path} {name}")

    yield from walk(typer.main.get_command(app), "crswatch")


def test_command_line_help() -> None:
    helps = dict(_help_texts())
    assert "crswatch hlh" in helps
    found = {path: _INTERNAL.findall(text) for path, text in helps.items()}
    assert {path: hits for path, hits in found.items() if hits} == {}


# -- every literal and template text of the modules that write clinician text ------------------


def _modules() -> list[Path]:
    return sorted({path for pattern in _MODULE_GLOBS for path in _SRC.glob(pattern)})


def _templates() -> list[Path]:
    return sorted({path for pattern in _TEMPLATE_GLOBS for path in _SRC.glob(pattern)})


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(_SRC)))
def test_module_string_literals(path: Path) -> None:
    found = [
        f"line {line}: {text}"
        for line, text in _literals(path.read_text(encoding="utf-8"))
        if _INTERNAL.search(text)
    ]
    assert found == []


@pytest.mark.parametrize("path", _templates(), ids=lambda path: str(path.relative_to(_SRC)))
def test_template_text(path: Path) -> None:
    text = _template_text(path.read_text(encoding="utf-8"))
    assert [match.group(0) for match in _INTERNAL.finditer(text)] == []


def test_the_scan_covers_the_modules_and_templates_it_names() -> None:
    names = {str(path.relative_to(_SRC)) for path in _modules() + _templates()}
    for expected in (
        "hlh/hlh2004.py",
        "web/_charts.py",
        "regimens/blinatumomab/_rules.py",
        "cohort/_report_pdf.py",
        "cli/_hlh.py",
        "web/templates/patient/_chart_cytokines.html",
        "cohort/templates/report.html.j2",
    ):
        assert expected in names


# -- the check itself --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "internal",
    [
        # The wording these texts had before.
        "**CRS context** (`StateParameters.crs_definition`, default `astct2019`; decision 0023):",
        "leaves a range makes it `ambiguous` with bounds (decision 0026).",
        "> 10,000 ng/mL: 'virtually pathognomonic for HLH/MAS' (seed 000, Teachey 2013)",
        "HLH-2004 hypofibrinogenaemia (Henter 2007; clinical-criteria §3.1)",
        "IEC-HS uses < 150 mg/dL (§3.4, unverified)",
        "hollow points: below the LOD, drawn at LOD/2 (seed 004)",
        "investigational step regimen of the NCT01209286 dose cohorts (seed 004)",
        "'Fever' without a threshold (discrepancy D7; HLHParameters.hlh2004_fever_c).",
        ">= 38.5 °C (crswatch rule, D7; the original says 'Fever')",
        "not verified (D9) and no probability is given (D10).",
        "EU SmPC paediatric premedication (D12): cycle 1 start only",
        "7. Pharmacodynamics (manner of seed 004)",
        "Seed 004, cytokines.",
        "crswatch convention, decision record 0013 (blinatumomab)",
        "- **Verification**: shared/research/criteria-verification.md §5; label text was read",
        "a second ``serve`` on the same one refuses to start",
    ],
)
def test_the_check_finds_an_internal_reference(internal: str) -> None:
    assert _INTERNAL.search(internal)


@pytest.mark.parametrize(
    "clinical",
    [
        "> 10,000 ng/mL: 'virtually pathognomonic for HLH/MAS' (Teachey 2013, Blood 121:5154)",
        "hollow points: below the LOD, drawn at LOD/2 (Nägele 2017, Exp Hematol Oncol 6:14)",
        "'Fever' without a threshold (the setting hlh2004_fever_c).",
        "**CRS context** (the setting crs_definition, default astct2019):",
        "peak ferritin >10,000 during CRS phase (typically <D5)",
        "D1 (baseline)",
        "oedema and ICP signs are excluded (footnote §: haemorrhage is not a feature)",
        "a table timeline directory needs patients.csv and events.csv (or .parquet)",
        "Generated by `crswatch regimen docs` from the label data; do not edit by hand.",
        "D-dimer 500 ng/mL; a seeded random cohort",
    ],
)
def test_the_check_lets_clinical_language_through(clinical: str) -> None:
    assert not _INTERNAL.search(clinical)


def test_the_literal_scan_reads_strings_but_not_docstrings_or_comments() -> None:
    source = '''"""Module notes: clinical-criteria §3.1 (seed 004)."""
# a comment citing decision 0023
NOTE = "drawn at LOD/2 (seed 004)"


def f() -> str:
    """A docstring naming ``StateParameters.fio2_rule``."""
    return "clean text"
'''
    assert [text for _, text in _literals(source) if _INTERNAL.search(text)] == [
        "drawn at LOD/2 (seed 004)"
    ]


def test_the_template_scan_skips_jinja_comments() -> None:
    source = "{# The seed 000 Figure 1 timeline (decision 0017). #}<p>After seed 000.</p>"
    assert [m.group(0) for m in _INTERNAL.finditer(_template_text(source))] == ["seed 000"]
