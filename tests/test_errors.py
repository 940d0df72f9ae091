"""Third-party errors never escape the reading boundary: each becomes one of ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from crswatch.errors import CRSWatchError, TimelineFormatError, UnitError
from crswatch.io import read_path
from crswatch.timeline import conversion_for


def test_ucum_parser_error_is_a_unit_error() -> None:
    with pytest.raises(UnitError) as caught:
        conversion_for("crp", "mg//L")
    assert caught.value.unit == "mg//L"


def test_pint_dimensionality_error_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="cannot be converted"):
        conversion_for("temperature", "mg")


def test_unreadable_parquet_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "patients.parquet").write_bytes(b"not parquet")
    (tmp_path / "events.parquet").write_bytes(b"not parquet")
    with pytest.raises(TimelineFormatError, match="Parquet"):
        read_path(tmp_path)


def test_json_syntax_error_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"format": ')
    with pytest.raises(CRSWatchError, match="line 1"):
        read_path(path)


def test_table_without_required_columns_is_a_format_error(tmp_path: Path) -> None:
    (tmp_path / "patients.csv").write_text(
        "id,therapy_kind,therapy_start\nP1,car_t,2024-01-01T00:00:00Z\n"
    )
    (tmp_path / "events.csv").write_text("patient_id,time,item\nP1,2024-01-01T00:00:00Z,crp\n")
    with pytest.raises(TimelineFormatError, match="missing column"):
        read_path(tmp_path)
