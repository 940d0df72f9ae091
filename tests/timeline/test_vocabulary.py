"""The vocabulary is data: items complete, every bound with a rationale, every unit UCUM."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from crswatch.errors import UnknownCodeError
from crswatch.timeline import conversion_for, item_spec, vocabulary

SPEC = Path(__file__).resolve().parents[3] / "shared" / "spec" / "timeline.md"


def test_every_item_has_a_rationale_and_consistent_bounds() -> None:
    for spec in vocabulary().values():
        assert spec.rationale.strip(), spec.name
        if spec.kind in ("quantity", "score"):
            assert spec.low is not None and spec.high is not None, spec.name
            assert spec.low < spec.high, spec.name
        if spec.kind == "quantity":
            assert spec.units, spec.name
        if spec.kind == "code":
            assert spec.values, spec.name


@pytest.mark.parametrize("name", sorted(n for n, s in vocabulary().items() if s.kind == "quantity"))
def test_canonical_units_are_ucum_and_convert_to_themselves(name: str) -> None:
    for unit in item_spec(name).units:
        assert conversion_for(name, unit).identity


@pytest.mark.skipif(not SPEC.is_file(), reason="shared/spec is not beside the repository")
def test_every_item_named_in_the_spec_vocabulary_is_known() -> None:
    text = SPEC.read_text(encoding="utf-8")
    section = text.split("## 4. Vocabulary", 1)[1].split("## 5.", 1)[0]
    # Item names are the backticked snake_case words before a unit bracket, an "=" or a comma.
    names = set(re.findall(r"`([a-z][a-z0-9_]*)`", section))
    codes = {value for spec in vocabulary().values() for value in spec.values}
    fields = {"end", "cause", "weight_kg"}  # event and patient fields the section mentions
    unknown = sorted(names - set(vocabulary()) - codes - fields)
    assert unknown == []


def test_unknown_item_raises_a_lookup_error() -> None:
    with pytest.raises(UnknownCodeError) as caught:
        item_spec("heartrate")
    assert isinstance(caught.value, LookupError)
    assert caught.value.code == "heartrate"
