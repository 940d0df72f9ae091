"""``crswatch cohort``: re-grade, report on and export whole cohorts.

The sub-commands live in their own modules and register on ``cohort_app``.
"""

from __future__ import annotations

import typer

from crswatch.cli._app import app

__all__ = ["cohort_app"]

cohort_app = typer.Typer(
    name="cohort",
    help="Cohorts at scale: grade every patient on every scale, report, export to registries.",
    no_args_is_help=True,
)
app.add_typer(cohort_app, name="cohort")
