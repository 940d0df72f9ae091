"""The patient's data for one hook call: prefetch first, the EHR's FHIR server for the rest.

Every prefetch key of the service is looked at (CDS Hooks 2.0, "Prefetch Template"): a value
(a resource or a searchset Bundle) is used; ``null`` means the EHR has no such data; an
OperationOutcome, or a key left out, means the data were not sent.  Keys not sent are read from
``fhirServer`` with the ``fhirAuthorization`` bearer token when the call carries both;
otherwise, or when that read fails, the key is named in ``missing`` and the cards say so.  The
resources then go through the FHIR reader (docs/decisions/0003-fhir-mapping.md) as one Bundle,
so units, codes and plausibility are checked exactly as for a file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from crswatch.api.cds_hooks._services import PREFETCH
from crswatch.errors import InputError
from crswatch.io.fhir import read_bundle
from crswatch.timeline import Timeline

__all__ = ["PREFETCH_LABELS", "PatientData", "gather_patient_data"]

#: What each prefetch key holds, in clinical words (for the "missing data" notes).
PREFETCH_LABELS: Mapping[str, str] = {
    "patient": "the patient record (therapy, weight)",
    "vitalSigns": "vital signs",
    "laboratory": "laboratory results",
    "assessments": "neurological assessments (ICE, RASS) and examination findings",
    "medicationAdministrations": "medication administrations",
    "procedures": "oxygen and ventilation procedures",
    "devices": "oxygen devices in use",
}
_MAX_PAGES = 20


@dataclass(slots=True)
class PatientData:
    """What could be read for the patient in context, and what could not."""

    timeline: Timeline | None
    #: Prefetch keys neither sent nor read from the FHIR server, with the reason.
    missing: dict[str, str] = field(default_factory=dict)
    #: Keys read from the FHIR server because the prefetch did not hold them.
    fetched: list[str] = field(default_factory=list)
    #: Why no timeline could be built (the reader's issue, in words), when none was.
    unreadable: str | None = None
    #: Records the reader rejected (counted; the cards say how many).
    records_rejected: int = 0

    @property
    def has_patient(self) -> bool:
        return "patient" not in self.missing


class _Unavailable(Exception):  # noqa: N818 - control flow inside this module
    pass


def _resources(value: Any) -> list[Mapping[str, Any]]:
    """The resources of one prefetch value: a resource, or the entries of a Bundle."""
    if not isinstance(value, Mapping):
        raise _Unavailable("not a FHIR resource")
    kind = value.get("resourceType")
    if kind == "OperationOutcome":
        raise _Unavailable("the EHR reported an error (OperationOutcome)")
    if kind != "Bundle":
        return [value]
    found = []
    for entry in value.get("entry") or ():
        resource = entry.get("resource") if isinstance(entry, Mapping) else None
        if isinstance(resource, Mapping) and resource.get("resourceType") != "OperationOutcome":
            found.append(resource)
    return found


def _check_server(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "https":
        return url.rstrip("/")
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if parts.scheme == "http" and loopback:
        return url.rstrip("/")
    raise _Unavailable(f"fhirServer={url!r} must be https (plain http only on loopback)")


def _fetch(
    query: str, server: str, token: str, transport: httpx.BaseTransport | None, timeout: float
) -> list[Mapping[str, Any]]:
    found: list[Mapping[str, Any]] = []
    url: str | None = f"{server}/{query}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    with httpx.Client(transport=transport, timeout=timeout, headers=headers) as client:
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            try:
                response = client.get(url)
            except httpx.HTTPError as exc:
                raise _Unavailable(
                    f"the FHIR server did not answer ({type(exc).__name__})"
                ) from None
            if response.status_code == 404 and query.startswith("Patient/"):
                raise _Unavailable("the FHIR server has no such Patient")
            if response.status_code != 200:
                raise _Unavailable(f"the FHIR server answered HTTP {response.status_code}")
            try:
                document = response.json()
            except ValueError:
                raise _Unavailable("the FHIR server's answer is not JSON") from None
            found.extend(_resources(document))
            url = _next_page(document)
    return found


def _next_page(document: Any) -> str | None:
    if not isinstance(document, Mapping) or document.get("resourceType") != "Bundle":
        return None
    for link in document.get("link") or ():
        if isinstance(link, Mapping) and link.get("relation") == "next":
            target = link.get("url")
            return target if isinstance(target, str) else None
    return None


def gather_patient_data(
    body: Mapping[str, Any],
    patient_id: str,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 5.0,
) -> PatientData:
    """The timeline of ``patient_id`` from a hook request's ``prefetch`` and FHIR server."""
    prefetch = body.get("prefetch")
    prefetch = prefetch if isinstance(prefetch, Mapping) else {}
    server = body.get("fhirServer")
    authorization = body.get("fhirAuthorization")
    token = authorization.get("access_token") if isinstance(authorization, Mapping) else None
    data = PatientData(timeline=None)
    resources: list[Mapping[str, Any]] = []
    for key, template in PREFETCH.items():
        query = template.replace("{{context.patientId}}", patient_id)
        try:
            if key in prefetch:
                if prefetch[key] is None:
                    continue  # the EHR has none of these
                resources.extend(_resources(prefetch[key]))
                continue
            if not isinstance(server, str) or not isinstance(token, str) or not token:
                raise _Unavailable("not prefetched, and no FHIR server access was granted")
            resources.extend(_fetch(query, _check_server(server), token, transport, timeout))
            data.fetched.append(key)
        except _Unavailable as exc:
            data.missing[key] = str(exc)
    if not data.has_patient:
        return data
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": _entries(resources)}
    try:
        result = read_bundle(bundle, source="CDS Hooks request")
    except InputError as exc:
        data.unreadable = str(exc)
        return data
    data.records_rejected = result.report.events_rejected
    if result.timelines:
        data.timeline = result.timelines[0]
    else:
        # The patient-level issues, in words (field and reason; the value is often empty).
        issues = [
            f"{issue.field.replace('_', ' ')}: {issue.reason}"
            for issue in result.report.issues
            if issue.event_index is None
        ][:3]
        data.unreadable = "; ".join(issues) or "no Patient could be read"
    return data


def _entries(resources: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Bundle entries, each resource once (an ``_include``d Medication may come twice)."""
    seen: set[str] = set()
    entries = []
    for resource in resources:
        if isinstance(resource.get("id"), str):
            key = f"{resource.get('resourceType')}/{resource['id']}"
            if key in seen:
                continue
            seen.add(key)
        entries.append({"resource": dict(resource)})
    return entries
