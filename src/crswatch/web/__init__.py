"""The clinician dashboard: server-rendered pages (Jinja2 + htmx) over the service's store."""
