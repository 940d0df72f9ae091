"""The command-line interface (Typer + Rich); a thin adapter over the library."""

from crswatch.cli import _course, _demo, _grade, _hlh, _scales, _simulate, _timelines  # noqa: F401
from crswatch.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``crswatch`` console script."""
    app()
