"""The root command group, which imports a command's module only when that command runs.

``crswatch --help`` lists every command with its one-line summary, and ``crswatch scales``
needs one module: neither should import the other thirteen command modules (issue 16, point 5;
docs/decisions/0056-lazy-imports.md).  ``COMMANDS`` names, in the order ``--help`` lists them,
each command's module(s) and the first paragraph of its help; until a command is run, the group
holds a stand-in that carries only that summary, so the help reads exactly as before.
``tests/cli/test_startup.py`` checks the table against the commands themselves.
"""

from __future__ import annotations

import importlib
from gettext import gettext
from typing import Any, NamedTuple

import typer
from typer.core import TyperCommand, TyperGroup

__all__ = ["COMMANDS", "Entry", "LazyGroup"]


class Entry(NamedTuple):
    """Where a command is defined, and the first paragraph of its help, on one line."""

    modules: tuple[str, ...]
    summary: str


_CLI = "crswatch.cli."

#: Every command of ``crswatch``, in the order of ``crswatch --help`` (commands, then groups).
COMMANDS: dict[str, Entry] = {
    "simulate": Entry(
        ("_simulate",),
        "Write a synthetic cohort of CAR T and blinatumomab patients with CRS courses.",
    ),
    "trajectory": Entry(
        ("_course",),
        "Grade over time for every CRS and ICANS scale: one row per change (or grid point).",
    ),
    "episodes": Entry(
        ("_course",),
        "CRS and ICANS episodes per scale: onset, peak grade and when, resolution, duration.",
    ),
    "demo": Entry(
        ("_demo",),
        "Load a synthetic ward into a demo database, show it, and serve the API and dashboard.",
    ),
    "grade": Entry(
        ("_grade",),
        "Grade CRS and ICANS on every published scale at a time, with evidence.",
    ),
    "hlh": Entry(
        ("_hlh",),
        "Screen for HLH/MAS: HLH-2004, HScore, carHLH and IEC-HS (labelled, unverified).",
    ),
    "biomarkers": Entry(
        ("_hlh",),
        "Biomarker kinetics (CRP, ferritin, fibrinogen, IL-6, ...) and cytokine profiles.",
    ),
    "risk": Entry(
        ("_hlh",),
        "Pre-treatment risk: EASIX, s-EASIX, m-EASIX, disease burden (CAR-HEMATOTOX on request).",
    ),
    "recommend": Entry(
        ("_recommend",),
        "What to do now: every action of a rule set, with dose, rationale and source.",
    ),
    "dose": Entry(
        ("_recommend",),
        "The label dose, and whether a dose now is allowed (refusals name the rule broken).",
    ),
    "scales": Entry(
        ("_scales",), "The CRS and ICANS scales crswatch grades, with their citations."
    ),
    "serve": Entry(
        ("_serve",),
        "Run the REST API and the dashboard (OpenAPI at /docs); the database is migrated first.",
    ),
    "init": Entry(
        ("_serve",),
        "Create or migrate the database (CRSWATCH_DATABASE_URL or CRSWATCH_DATA_DIR).",
    ),
    "validate": Entry(
        ("_timelines",),
        "Read PATH, convert every unit, check every record; exit 1 if anything was rejected.",
    ),
    "convert": Entry(
        ("_timelines",),
        "Convert timelines between JSON, CSV/Parquet tables and FHIR R4 Bundles.",
    ),
    "blinatumomab": Entry(
        ("_blinatumomab",),
        "Blinatumomab (BLINCYTO): plan cycles and premedication; status from the record.",
    ),
    "cohort": Entry(
        ("_cohort", "_cohort_report"),
        "Cohorts at scale: grade every patient on every scale, report, export to registries.",
    ),
    "regimen": Entry(
        ("_regimen",),
        "Step-up bispecific T-cell engagers (teclistamab, elranatamab, talquetamab, "
        "epcoritamab, glofitamab, mosunetuzumab, tarlatamab): plan from the label; status "
        "from the record.",
    ),
    "users": Entry(("_serve",), "Service users and API tokens."),
    "audit": Entry(("_serve",), "The service's audit trail."),
}


class _StandIn(TyperCommand):
    """A command not loaded yet: its name and summary, for the help listing only."""


# The context and help formatter are typed ``Any``: Typer's own classes for them live in its
# private, vendored copy of Click.
class LazyGroup(TyperGroup):
    """The ``crswatch`` group: commands from ``COMMANDS``, each loaded when first resolved.

    Commands whose modules are already imported (a test that imported one, or a command that
    imports another's module) are built as Typer builds any command; the others are stand-ins
    until ``get_command`` resolves them.
    """

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, entry in COMMANDS.items():
            if name not in self.commands:
                self.commands[name] = _StandIn(name, help=entry.summary)

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = self.commands.get(cmd_name)
        if isinstance(command, _StandIn):
            command = self.commands[cmd_name] = _load(cmd_name)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """As ``TyperGroup.format_commands``, from the summaries: listing loads nothing."""
        commands = [
            (name, command)
            for name in self.list_commands(ctx)
            if (command := self.commands.get(name)) is not None and not command.hidden
        ]
        if not commands:
            return
        # Click's layout: three times the default spacing beside the longest name.
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
        with formatter.section(gettext("Commands")):
            formatter.write_dl(rows)


def _load(name: str) -> Any:
    """Import the command's module(s), then build the command as Typer builds every command."""
    from crswatch.cli._app import app

    for module in COMMANDS[name].modules:
        importlib.import_module(_CLI + module)
    built = typer.main.get_command(app)
    assert isinstance(built, TyperGroup)
    return built.commands[name]
