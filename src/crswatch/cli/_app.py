"""The ``crswatch`` command: one Typer app, commands registered from one module each."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

__all__ = ["app", "console", "emit_json", "err_console", "fail"]

app = typer.Typer(
    name="crswatch",
    help=(
        "CRS, ICANS and HLH/MAS surveillance for T-cell engaging immunotherapy: read, validate, "
        "convert and simulate patient timelines (crswatch.timeline/1)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _console(*, stderr: bool) -> Console:
    # Piped or captured output (CI, files, tests) gets a wide, fixed width so tables and
    # messages are not folded at 80 columns; a terminal keeps its own width.
    probe = Console(stderr=stderr)
    return probe if probe.is_terminal else Console(stderr=stderr, width=160)


console = _console(stderr=False)
err_console = _console(stderr=True)


def emit_json(payload: Any) -> None:
    """Machine-readable output on stdout, nothing else mixed in."""
    sys.stdout.write(json.dumps(payload, indent=1, ensure_ascii=False, default=str))
    sys.stdout.write("\n")


def fail(message: str, code: int = 2) -> typer.Exit:
    """Report an error on stderr and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    return typer.Exit(code)
