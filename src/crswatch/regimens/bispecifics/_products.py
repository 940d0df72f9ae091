"""The registry of bispecific T-cell engager labels, one module per product."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from crswatch.regimens.bispecifics import (
    elranatamab,
    epcoritamab,
    glofitamab,
    mosunetuzumab,
    talquetamab,
    tarlatamab,
    teclistamab,
)
from crswatch.regimens.bispecifics._model import Product

__all__ = ["PRODUCTS", "get_product"]

PRODUCTS: Mapping[str, Product] = MappingProxyType(
    {
        module.PRODUCT.id: module.PRODUCT
        for module in (
            teclistamab,
            elranatamab,
            talquetamab,
            epcoritamab,
            glofitamab,
            mosunetuzumab,
            tarlatamab,
        )
    }
)


def get_product(drug: str) -> Product:
    """The product ``drug`` (its generic name); ``ValueError`` names the known ones."""
    try:
        return PRODUCTS[drug.strip().lower()]
    except KeyError:
        raise ValueError(f"drug={drug!r} is not one of {', '.join(PRODUCTS)}") from None
