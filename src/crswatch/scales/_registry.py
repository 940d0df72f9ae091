"""The registry of scales: every published scale crswatch grades, by id."""

from __future__ import annotations

from types import MappingProxyType

from crswatch.errors import UnknownCodeError
from crswatch.scales import astct2019
from crswatch.scales._criteria import Scale

__all__ = ["CRS_SCALES", "get_scale"]

_CRS: dict[str, Scale] = {module.SCALE.id: module.SCALE for module in (astct2019,)}
#: CRS scales by id, in the order they are shown.
CRS_SCALES = MappingProxyType(_CRS)


def get_scale(scale_id: str) -> Scale:
    """The scale with this id; raises :class:`UnknownCodeError` listing the known ids."""
    try:
        return _CRS[scale_id]
    except KeyError:
        raise UnknownCodeError(scale_id, f"the scales ({', '.join(_CRS)})") from None
