"""The REST API (FastAPI): patients, events ingest, analyses, users, tokens and the audit trail."""

from crswatch.api._app import create_app
from crswatch.api._settings import Settings

__all__ = ["Settings", "create_app"]
