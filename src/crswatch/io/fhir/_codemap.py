"""The code map: standard codes (LOINC, RxNorm, SNOMED CT) to crswatch items, as reviewed data.

``codemap.csv`` beside this module has one row per code, each with its source::

    item,value_code,system,code,display,resource,unit,confidence,source

- ``item`` is a timeline vocabulary item, or a patient field (``weight_kg``, ``height_cm``) for
  the body-size Observations.
- ``value_code`` is empty when the code names the item (LOINC 8310-5 is ``temperature``); it
  holds one of the item's values when the code names the value itself (SNOMED CT 371907003,
  oxygen by nasal cannula, is ``o2_device = nasal_cannula``).
- ``resource`` is the resource type the writer uses the code in; the reader accepts a code in
  any resource (a device concept is also a fine answer to LOINC 107117-4).
- ``unit`` is the UCUM unit the code's property implies; the writer picks the code whose unit
  converts to the event's unit (so il2r in U/mL is not labelled with a mass-concentration code),
  and the reader takes an annotation such as ``{FEU}`` from it when the value's unit has none.

Sites can load their own map (``load_codemap(path)``) to add local codes.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from crswatch.errors import UnitError
from crswatch.timeline import conversion_for, vocabulary

__all__ = ["COLUMNS", "PATIENT_FIELDS", "RESOURCES", "CodeMap", "CodeMapRow", "load_codemap"]

COLUMNS = (
    "item",
    "value_code",
    "system",
    "code",
    "display",
    "resource",
    "unit",
    "confidence",
    "source",
)
#: Patient fields that are also Observations (LOINC 29463-7 body weight, 8302-2 body height).
PATIENT_FIELDS = ("weight_kg", "height_cm")
RESOURCES = ("Observation", "MedicationAdministration", "Procedure", "DeviceUseStatement")

_ANNOTATION = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True, slots=True)
class CodeMapRow:
    """One reviewed code: what it means in crswatch terms, and where that was checked."""

    item: str
    value_code: str | None
    system: str
    code: str
    display: str
    resource: str
    unit: str | None
    confidence: str
    source: str

    @property
    def key(self) -> str:
        """``system|code``, the form unknown codes are counted under."""
        return f"{self.system}|{self.code}"

    @property
    def annotation(self) -> str | None:
        """The UCUM annotation of the code's unit (``{FEU}``), if it has one."""
        if self.unit is None:
            return None
        found = _ANNOTATION.search(self.unit)
        return found.group(0) if found else None


class CodeMap:
    """Rows indexed both ways: by (system, code) for reading, by item for writing."""

    def __init__(self, rows: Iterable[CodeMapRow]) -> None:
        self.rows = tuple(rows)
        self._by_code: dict[tuple[str, str], list[CodeMapRow]] = defaultdict(list)
        self._by_item: dict[tuple[str, str | None], list[CodeMapRow]] = defaultdict(list)
        # codings_for is asked once per event written; unit checks make it worth remembering.
        self._chosen: dict[tuple[str, str | None, str, str | None], tuple[CodeMapRow, ...]] = {}
        for row in self.rows:
            self._by_code[(row.system, row.code)].append(row)
            self._by_item[(row.item, row.value_code)].append(row)

    def __len__(self) -> int:
        return len(self.rows)

    def lookup(self, system: str, code: str) -> tuple[CodeMapRow, ...]:
        """Every row of ``system|code`` (normally one; several only if they agree on the item)."""
        return tuple(self._by_code.get((system, code), ()))

    def codings_for(
        self, item: str, value_code: str | None, resource: str, unit: str | None = None
    ) -> tuple[CodeMapRow, ...]:
        """The standard codes the writer puts beside the local one: at most one per system.

        For an Observation, Procedure or device, several codes of one system are variants of
        the same measurement (method, specimen) and the first in file order is the preferred
        one.  For a MedicationAdministration, several codes of one system are *different drugs*
        grouped under one item (antipyretic: acetaminophen, ibuprofen), so naming any one would
        be false: that system is then left out and only the local code is written.
        """
        key = (item, value_code, resource, unit)
        if key not in self._chosen:
            self._chosen[key] = self._choose(item, value_code, resource, unit)
        return self._chosen[key]

    def _choose(
        self, item: str, value_code: str | None, resource: str, unit: str | None
    ) -> tuple[CodeMapRow, ...]:
        candidates = [
            row
            for row in self._by_item.get((item, value_code), ())
            if row.resource == resource and _unit_fits(item, row.unit, unit)
        ]
        per_system: dict[str, list[CodeMapRow]] = defaultdict(list)
        for row in candidates:
            per_system[row.system].append(row)
        chosen: list[CodeMapRow] = []
        for rows in per_system.values():
            if resource == "MedicationAdministration" and len({r.code for r in rows}) > 1:
                continue
            chosen.append(rows[0])
        return tuple(chosen)

    @classmethod
    def from_csv(cls, text: str, origin: str = "codemap.csv") -> CodeMap:
        """Parse and check a code map; a bad row raises ValueError naming its line."""
        reader = csv.DictReader(text.splitlines())
        missing = [column for column in COLUMNS if column not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{origin}: missing columns {missing}")
        rows = [_row(record, origin, line) for line, record in enumerate(reader, start=2)]
        _check_unambiguous(rows, origin)
        return cls(rows)


def _row(record: dict[str, str], origin: str, line: int) -> CodeMapRow:
    where = f"{origin} line {line}"
    values = {column: (record.get(column) or "").strip() for column in COLUMNS}
    for column in ("item", "system", "code", "resource", "source"):
        if not values[column]:
            raise ValueError(f"{where}: {column} is empty")
    item = values["item"]
    spec = vocabulary().get(item)
    if spec is None and item not in PATIENT_FIELDS:
        raise ValueError(f"{where}: item={item!r} is not a vocabulary item or patient field")
    value_code = values["value_code"] or None
    if value_code is not None:
        allowed = spec.values if spec is not None else ()
        if value_code not in allowed:
            raise ValueError(f"{where}: value_code={value_code!r} is not a value of {item!r}")
    if values["resource"] not in RESOURCES:
        raise ValueError(f"{where}: resource={values['resource']!r} is not one of {RESOURCES}")
    return CodeMapRow(
        item=item,
        value_code=value_code,
        system=values["system"],
        code=values["code"],
        display=values["display"],
        resource=values["resource"],
        unit=values["unit"] or None,
        confidence=values["confidence"],
        source=values["source"],
    )


def _check_unambiguous(rows: list[CodeMapRow], origin: str) -> None:
    """A code must mean one thing; otherwise reading it would be a guess."""
    meaning: dict[tuple[str, str], tuple[str, str | None]] = {}
    for row in rows:
        seen = meaning.setdefault((row.system, row.code), (row.item, row.value_code))
        if seen != (row.item, row.value_code):
            raise ValueError(
                f"{origin}: {row.key} maps to both {seen} and {(row.item, row.value_code)}"
            )


def _unit_fits(item: str, code_unit: str | None, event_unit: str | None) -> bool:
    """True when a code's unit converts to the event's canonical unit (or either is absent)."""
    if code_unit is None or event_unit is None or item in PATIENT_FIELDS:
        return True
    try:
        return conversion_for(item, code_unit).unit == event_unit
    except UnitError:
        return False


@cache
def _packaged() -> CodeMap:
    text = resources.files("crswatch.io.fhir").joinpath("codemap.csv").read_text("utf-8")
    return CodeMap.from_csv(text)


def load_codemap(path: str | Path | None = None) -> CodeMap:
    """The code map at ``path``, or the reviewed one shipped with crswatch (loaded once)."""
    if path is None:
        return _packaged()
    path = Path(path)
    return CodeMap.from_csv(path.read_text("utf-8"), origin=str(path))
