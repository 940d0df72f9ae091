"""The registry of scales: every public module of ``crswatch.scales`` that defines ``SCALE``.

Scale modules are discovered, not listed by hand, so adding a scale is adding one file; the
display order follows ``_ORDER`` (newest consensus first), then any others by id.

Scales are keyed by syndrome and id, ``(kind, id)``: ASTCT 2019 grades both CRS
(``astct2019.py``) and ICANS (``icans_astct2019.py``) under the id ``astct2019``.  A selector
is a bare id (a CRS scale, as before ICANS existed) or ``kind.id`` (``icans.astct2019``,
``crs.lee2014``); docs/decisions/0010-icans.md.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType

from crswatch.errors import UnknownCodeError
from crswatch.scales._criteria import SCALE_KINDS, Scale, ScaleKind

__all__ = ["ALL_SCALES", "CRS_SCALES", "ICANS_SCALES", "get_scale", "select_scales"]

_ORDER: dict[ScaleKind, tuple[str, ...]] = {
    "crs": (
        "astct2019",
        "lee2014",
        "ctcae_v4",
        "ctcae_v5",
        "upenn_chop2016",
        "penn2018",
        "mskcc2018",
        "cartox2018",
        "cartox_peds2019",
    ),
    "icans": ("astct2019",),
}


def _discover() -> dict[ScaleKind, dict[str, Scale]]:
    found: dict[ScaleKind, dict[str, Scale]] = {kind: {} for kind in SCALE_KINDS}
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"crswatch.scales.{module_info.name}")
        scale = getattr(module, "SCALE", None)
        if isinstance(scale, Scale):
            if scale.id in found[scale.kind]:
                raise RuntimeError(f"two {scale.kind} scales have the id {scale.id!r}")
            found[scale.kind][scale.id] = scale
    ordered: dict[ScaleKind, dict[str, Scale]] = {}
    for kind, scales in found.items():
        rank = {scale_id: i for i, scale_id in enumerate(_ORDER[kind])}
        ordered[kind] = dict(
            sorted(scales.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0]))
        )
    return ordered


_BY_KIND = _discover()
#: CRS scales by id, in display order.
CRS_SCALES = MappingProxyType(_BY_KIND["crs"])
#: ICANS scales by id, in display order.
ICANS_SCALES = MappingProxyType(_BY_KIND["icans"])
#: Every scale by ``kind.id`` key: CRS first, then ICANS.
ALL_SCALES = MappingProxyType(
    {scale.key: scale for kind in SCALE_KINDS for scale in _BY_KIND[kind].values()}
)


def _known() -> str:
    return ", ".join([*CRS_SCALES, *(f"icans.{s}" for s in ICANS_SCALES)])


def get_scale(scale_id: str, kind: ScaleKind = "crs") -> Scale:
    """The scale ``scale_id`` of syndrome ``kind``; ``scale_id`` may be qualified (``icans.x``).

    Raises :class:`UnknownCodeError` listing the known ids.
    """
    prefix, dot, rest = scale_id.partition(".")
    if dot and prefix in SCALE_KINDS:
        kind, scale_id = prefix, rest
    try:
        return _BY_KIND[kind][scale_id]
    except KeyError:
        raise UnknownCodeError(scale_id, f"the {kind} scales ({_known()})") from None


def select_scales(selectors: Sequence[str] | None) -> list[Scale]:
    """The scales named by selectors (bare id = CRS, ``kind.id``); none given: every scale."""
    if not selectors:
        return list(ALL_SCALES.values())
    chosen = [get_scale(selector) for selector in selectors]
    return list({scale.key: scale for scale in chosen}.values())
