"""The command-line interface (Typer + Rich); a thin adapter over the library.

A command's module, and the library it needs, is imported when the command runs
(``crswatch.cli._lazy``): ``crswatch --help`` imports Typer and Rich, not the engines.
"""

from crswatch.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``crswatch`` console script."""
    app()
