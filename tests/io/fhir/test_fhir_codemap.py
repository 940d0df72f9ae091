"""The code map is reviewed data: every row has a source, a known item and one meaning."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.io.fhir import CodeMap, load_codemap, read_bundle
from crswatch.timeline import vocabulary
from tests.io.fhir.conftest import bundle, observation, patient, quantity

HEADER = "item,value_code,system,code,display,resource,unit,confidence,source\n"


def test_the_shipped_code_map_loads_and_every_row_has_a_source() -> None:
    codemap = load_codemap()
    assert len(codemap) > 50
    for row in codemap.rows:
        assert row.source.strip(), row
        assert row.item in vocabulary() or row.item in ("weight_kg", "height_cm"), row
        if row.value_code is not None:
            assert row.value_code in vocabulary()[row.item].values, row


def test_every_code_means_one_thing() -> None:
    meanings: dict[str, set[tuple[str, str | None]]] = {}
    for row in load_codemap().rows:
        meanings.setdefault(row.key, set()).add((row.item, row.value_code))
    assert {key: found for key, found in meanings.items() if len(found) > 1} == {}


def test_the_research_table_codes_are_mapped() -> None:
    # shared/research/ecosystem.md §1.1-1.2 (confidence H rows).
    codemap = load_codemap()
    for code, item in [
        ("8310-5", "temperature"),
        ("8480-6", "sbp"),
        ("8462-4", "dbp"),
        ("59408-5", "spo2"),
        ("3150-0", "fio2"),
        ("3151-8", "o2_flow"),
        ("1988-5", "crp"),
        ("26881-3", "il6"),
        ("29463-7", "weight_kg"),
    ]:
        assert {row.item for row in codemap.lookup("http://loinc.org", code)} == {item}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("crp,,http://loinc.org,1988-5,CRP,Observation,mg/L,H,\n", "source is empty"),
        ("crp_hs,,http://loinc.org,30522-7,hsCRP,Observation,mg/L,H,x\n", "not a vocabulary item"),
        ("o2_device,helmet,http://snomed.info/sct,1,x,Procedure,,H,x\n", "not a value"),
        ("crp,,http://loinc.org,1988-5,CRP,Condition,mg/L,H,x\n", "resource="),
        (
            "crp,,http://loinc.org,1988-5,CRP,Observation,mg/L,H,x\n"
            "ferritin,,http://loinc.org,1988-5,x,Observation,ng/mL,H,x\n",
            "maps to both",
        ),
    ],
)
def test_bad_rows_are_refused(row: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CodeMap.from_csv(HEADER + row, "test.csv")


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="missing columns"):
        CodeMap.from_csv("item,system,code\ncrp,http://loinc.org,1988-5\n")


def test_a_site_code_map_reads_local_codes(tmp_path: Path) -> None:
    path = tmp_path / "site.csv"
    path.write_text(
        HEADER + "crp,,http://hospital.example/lab,CRP1,CRP,Observation,mg/L,L,site lab catalogue\n"
    )
    entry = observation(
        "c-1", "CRP1", system="http://hospital.example/lab", valueQuantity=quantity(3, "mg/dL")
    )
    document = bundle(patient(), entry)
    assert read_bundle(document).report.unknown_codes == {"http://hospital.example/lab|CRP1": 1}
    result = read_bundle(document, codemap=load_codemap(path))
    assert [(e.item, e.value) for e in result.timelines[0].events] == [("crp", 30.0)]
