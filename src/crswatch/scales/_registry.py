"""The registry of scales: every public module of ``crswatch.scales`` that defines ``SCALE``.

Scale modules are discovered, not listed by hand, so adding a scale is adding one file; the
display order follows ``_ORDER`` (newest consensus first), then any others by id.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from types import MappingProxyType

from crswatch.errors import UnknownCodeError
from crswatch.scales._criteria import Scale

__all__ = ["CRS_SCALES", "get_scale"]

_ORDER = (
    "astct2019",
    "lee2014",
    "ctcae_v4",
    "ctcae_v5",
    "upenn_chop2016",
    "penn2018",
    "mskcc2018",
    "cartox2018",
    "cartox_peds2019",
)


def _discover() -> dict[str, Scale]:
    found: dict[str, Scale] = {}
    for module_info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"crswatch.scales.{module_info.name}")
        scale = getattr(module, "SCALE", None)
        if isinstance(scale, Scale):
            found[scale.id] = scale
    rank = {scale_id: i for i, scale_id in enumerate(_ORDER)}
    return dict(sorted(found.items(), key=lambda item: (rank.get(item[0], len(rank)), item[0])))


_CRS = {scale_id: scale for scale_id, scale in _discover().items() if scale.kind == "crs"}
#: CRS scales by id, in display order.
CRS_SCALES = MappingProxyType(_CRS)


def get_scale(scale_id: str) -> Scale:
    """The scale with this id; raises :class:`UnknownCodeError` listing the known ids."""
    try:
        return _CRS[scale_id]
    except KeyError:
        raise UnknownCodeError(scale_id, f"the scales ({', '.join(_CRS)})") from None
