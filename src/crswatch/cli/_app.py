"""The ``crswatch`` command: one Typer app, commands registered from one module each.

Start-up (issue 16, point 5; docs/decisions/0056-lazy-imports.md): the command modules import
Typer, Rich, the standard library and each other at module level, and the library (Polars, the
store, the engines) inside the command that needs it, so ``crswatch --help`` and a light command
do not pay for the heavy ones.  ``tests/cli/test_startup.py`` keeps it so.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from crswatch.cli._lazy import LazyGroup

__all__ = [
    "app",
    "console",
    "emit_json",
    "err_console",
    "fail",
    "grade_cell",
    "print_legend",
    "say",
]


app = typer.Typer(
    # Each command's module is imported when the command runs (``_lazy``).
    cls=LazyGroup,
    # Help is plain text: it quotes intervals and commands ("[reference - window, reference]",
    # "crswatch[spark]") whose square brackets Rich would take for style tags, and switches are
    # shown without a value type (Rich help printed "--json <bool>").
    rich_markup_mode=None,
    name="crswatch",
    help=(
        "CRS, ICANS and HLH/MAS surveillance for T-cell engaging immunotherapy: read, validate, "
        "convert and simulate patient timelines (crswatch.timeline/1)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    # Makes the app a group even before any command module is imported (Typer builds a lone
    # command, or nothing, otherwise); it adds no option and no help text.
    pass


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
    """Report an error on stderr and return the exit to raise.

    The message is plain text: it quotes user input and shell commands (``pip install
    'crswatch[spark]'``), whose square brackets Rich would otherwise take for style tags.
    """
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, markup=True)
    return typer.Exit(code)


def print_legend(*, stderr: bool = False) -> None:
    """The legend of the grade notation, printed under any table that uses it."""
    from crswatch.scales import GRADE_LEGEND

    target = err_console if stderr else console
    target.print("Grades: " + GRADE_LEGEND[0], markup=False, highlight=False, style="dim")
    for line in GRADE_LEGEND[1:]:
        target.print("        " + line, markup=False, highlight=False, style="dim")


def say(message: str, *, stderr: bool = False) -> None:
    """Print plain text (paths, commands, user input): no markup, no highlighting."""
    (err_console if stderr else console).print(message, markup=False, highlight=False)


def grade_cell(grade: int | None, status: str, bounds: tuple[int, int]) -> str:
    """A grade in the shared notation (``3``, ``2 (provisional, ≤ 3)``, ``0–2 (not
    assessable)``), for a table printed with :func:`print_legend` under it."""
    from crswatch.scales import grade_notation

    return grade_notation(grade, status, bounds[0], bounds[1])
