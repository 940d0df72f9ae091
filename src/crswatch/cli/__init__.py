"""The command-line interface (Typer + Rich); a thin adapter over the library."""

# Importing the command modules registers their commands on the app.
from crswatch.cli import (  # noqa: F401
    _blinatumomab,
    _cohort,
    _cohort_report,
    _course,
    _demo,
    _grade,
    _hlh,
    _recommend,
    _regimen,
    _scales,
    _serve,
    _simulate,
    _timelines,
)
from crswatch.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``crswatch`` console script."""
    app()
