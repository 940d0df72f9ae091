"""A patient's simulated events as columns: appended block by block, finished once.

Every generator module appends whole blocks (one item, many times) as numpy arrays; nothing
creates one Python object per event.  :meth:`EventLog.finish` rounds times to the minute, keeps
the observation window, makes (item, time) unique and sorts by (time, item): the result is a
:class:`PatientEvents` that the shard writer turns into Arrow columns directly and that
:func:`crswatch.simulate.simulate_patient` turns into a validated ``Timeline``.

Times are hours relative to the therapy start while generating; ``finish`` turns them into UTC
microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from crswatch.simulate._items import CODE_INDEX, DECIMALS, HIGH, INDEX, LOW

__all__ = [
    "ABOVE_ULOQ",
    "BELOW_LOD",
    "NO_TIME",
    "EventLog",
    "FloatArray",
    "PatientEvents",
]

FloatArray = npt.NDArray[np.float64]
ArrayLike = FloatArray | Sequence[float] | float

#: ``censored`` codes in :attr:`PatientEvents.censored` (0 means not censored).
BELOW_LOD = 1
ABOVE_ULOQ = 2
#: The ``end`` of an event that has none.
NO_TIME = np.iinfo(np.int64).min

_MINUTE_US = 60_000_000
#: Minutes per item in the uniqueness key; far beyond any observation window.
_KEY_STRIDE = 10_000_000


@dataclass(frozen=True, slots=True)
class PatientEvents:
    """One patient's events, sorted by (time, item); every array has one entry per event."""

    item: npt.NDArray[np.int16]
    time_us: npt.NDArray[np.int64]
    #: The number for quantities and scores; NaN where ``code`` holds the value.
    value: FloatArray
    #: Index into ``CODES`` for codes, booleans and ``not_assessed``; -1 for numbers.
    code: npt.NDArray[np.int16]
    end_us: npt.NDArray[np.int64]
    ref_low: FloatArray
    ref_high: FloatArray
    censored: npt.NDArray[np.int8]
    cause_other: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.item.shape[0])


@dataclass(frozen=True, slots=True)
class _Block:
    """One append: ``None`` where the block carries the default (no code, no end, ...)."""

    item: int
    hours: FloatArray
    value: FloatArray | None
    code: npt.NDArray[np.int16] | None
    end: FloatArray | None
    ref_low: float
    ref_high: float
    censored: npt.NDArray[np.int8] | None
    cause_other: npt.NDArray[np.bool_] | None


def _hours(hours: ArrayLike) -> FloatArray:
    return np.atleast_1d(np.asarray(hours, dtype=np.float64))


def _flags(flags: npt.NDArray[np.bool_] | bool) -> npt.NDArray[np.bool_] | None:
    if isinstance(flags, bool):
        return None if not flags else np.ones(1, dtype=np.bool_)
    return flags if flags.any() else None


class EventLog:
    """Blocks of events of one patient, in the order the generators append them."""

    __slots__ = ("_blocks",)

    def __init__(self) -> None:
        self._blocks: list[_Block] = []

    def add(
        self,
        item: str,
        hours: ArrayLike,
        values: ArrayLike,
        *,
        ends: ArrayLike | None = None,
        ref: tuple[float | None, float | None] | None = None,
        censored: npt.NDArray[np.int8] | None = None,
        cause_other: npt.NDArray[np.bool_] | bool = False,
    ) -> None:
        """Quantities or scores of ``item``, rounded as charted and kept within its bounds."""
        number = INDEX[item]
        times = _hours(hours)
        if times.size == 0:
            return
        value = np.asarray(values, dtype=np.float64)
        if value.ndim == 0:
            value = np.full(times.shape, float(value))
        value = np.minimum(np.maximum(value, LOW[number]), HIGH[number])
        # Adding 0.0 turns a rounded -0.0 into 0.0, which would otherwise be written as "-0".
        value = np.round(value, DECIMALS[number]) + 0.0
        low, high = ref if ref is not None else (None, None)
        self._blocks.append(
            _Block(
                item=number,
                hours=times,
                value=value,
                code=None,
                end=None if ends is None else _hours(ends),
                ref_low=np.nan if low is None else float(low),
                ref_high=np.nan if high is None else float(high),
                censored=censored if censored is not None and censored.any() else None,
                cause_other=_flags(cause_other),
            )
        )

    def add_codes(
        self,
        item: str,
        hours: ArrayLike,
        codes: Sequence[str] | str,
        *,
        cause_other: npt.NDArray[np.bool_] | bool = False,
    ) -> None:
        """Codes (or ``"true"``/``"false"`` for booleans, ``not_assessed`` for scores)."""
        times = _hours(hours)
        if times.size == 0:
            return
        if isinstance(codes, str):
            code = np.full(times.shape, CODE_INDEX[codes], dtype=np.int16)
        else:
            code = np.array([CODE_INDEX[name] for name in codes], dtype=np.int16)
        self._blocks.append(
            _Block(
                item=INDEX[item],
                hours=times,
                value=None,
                code=code,
                end=None,
                ref_low=np.nan,
                ref_high=np.nan,
                censored=None,
                cause_other=_flags(cause_other),
            )
        )

    def finish(self, start_us: int, window: tuple[float, float]) -> PatientEvents:
        """Round to the minute, keep ``window`` (hours), make (item, time) unique, sort."""
        blocks = self._blocks
        sizes = [block.hours.size for block in blocks]
        total = sum(sizes)
        value = np.full(total, np.nan)
        code = np.full(total, -1, dtype=np.int16)
        end_hours = np.full(total, np.nan)
        censored = np.zeros(total, dtype=np.int8)
        cause_other = np.zeros(total, dtype=np.bool_)
        offset = 0
        for block, size in zip(blocks, sizes, strict=True):
            part = slice(offset, offset + size)
            offset += size
            if block.value is not None:
                value[part] = block.value
            if block.code is not None:
                code[part] = block.code
            if block.end is not None:
                end_hours[part] = block.end
            if block.censored is not None:
                censored[part] = block.censored
            if block.cause_other is not None:
                cause_other[part] = block.cause_other
        item = np.repeat(np.array([block.item for block in blocks], dtype=np.int16), sizes)
        minutes = np.rint(np.concatenate([block.hours for block in blocks]) * 60.0).astype(np.int64)
        first, last = round(window[0] * 60.0), round(window[1] * 60.0)
        keep = np.flatnonzero((minutes >= first) & (minutes <= last))
        item, minutes = item[keep], _unique_per_item(item[keep], minutes[keep])
        order = np.lexsort((item, minutes))
        rows = keep[order]
        minutes = minutes[order]
        end_hours = end_hours[rows]
        no_end = np.isnan(end_hours)
        end_minutes = np.maximum(np.rint(np.where(no_end, 0.0, end_hours) * 60.0), minutes)
        return PatientEvents(
            item=item[order],
            time_us=start_us + minutes * _MINUTE_US,
            value=value[rows],
            code=code[rows],
            end_us=np.where(no_end, NO_TIME, start_us + end_minutes.astype(np.int64) * _MINUTE_US),
            ref_low=np.repeat([block.ref_low for block in blocks], sizes)[rows],
            ref_high=np.repeat([block.ref_high for block in blocks], sizes)[rows],
            censored=censored[rows],
            cause_other=cause_other[rows],
        )


def _unique_per_item(
    item: npt.NDArray[np.int16], minutes: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Move a repeated (item, minute) one minute later until every pair is unique.

    The contract reports two events of one item at one time as a conflict.  Generators avoid
    them by construction; rounding to the minute can still make two spot readings meet, and a
    one-minute shift keeps both readings rather than dropping one.
    """
    minutes = minutes.copy()
    key = item.astype(np.int64) * _KEY_STRIDE + minutes
    while True:
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        repeated = order[1:][ordered[1:] == ordered[:-1]]
        if repeated.size == 0:
            return minutes
        key[repeated] += 1
        minutes[repeated] += 1
