"""A CDS Hooks 2.0 service on the crswatch API: the EHR asks, crswatch answers with cards.

``/cds-services`` (discovery), ``patient-view`` (CRS and ICANS grades, HLH/MAS alerts),
``order-select`` and ``order-sign`` (tocilizumab and corticosteroid dose checks) and feedback.
Off by default: ``create_app(cds_hooks=CdsHooksSettings(enabled=True, jwks=...))`` or
``CRSWATCH_CDS_HOOKS=1`` with ``CRSWATCH_CDS_JWKS_FILE``.  Every call is authenticated with the
EHR's signed JWT and audited.  Decisions: docs/decisions/0046-cds-hooks-service.md; an example
exchange: docs/cds-hooks.md.
"""

from fastapi import FastAPI

from crswatch.api.cds_hooks._auth import ClientAuthError, ClientIdentity, verify_client_jwt
from crswatch.api.cds_hooks._data import PatientData, gather_patient_data
from crswatch.api.cds_hooks._hooks import PreconditionFailedError, answer_hook
from crswatch.api.cds_hooks._prefetch import prefetch_for
from crswatch.api.cds_hooks._routes import build_router
from crswatch.api.cds_hooks._services import PREFETCH, SERVICES, CdsService, discovery
from crswatch.api.cds_hooks._settings import ASYMMETRIC_ALGORITHMS, CdsHooksSettings

__all__ = [
    "ASYMMETRIC_ALGORITHMS",
    "PREFETCH",
    "SERVICES",
    "CdsHooksSettings",
    "CdsService",
    "ClientAuthError",
    "ClientIdentity",
    "PatientData",
    "PreconditionFailedError",
    "answer_hook",
    "discovery",
    "gather_patient_data",
    "mount_cds_hooks",
    "prefetch_for",
    "verify_client_jwt",
]


def mount_cds_hooks(app: FastAPI, settings: CdsHooksSettings | None = None) -> bool:
    """Add ``/cds-services`` to ``app`` when enabled (``settings`` or the environment).

    Returns whether it was mounted.  ``app.state.store`` is where calls are audited and
    feedback kept.
    """
    chosen = settings if settings is not None else CdsHooksSettings.from_env()
    app.state.cds_hooks = chosen
    if not chosen.enabled:
        return False
    app.include_router(build_router(chosen))
    return True
