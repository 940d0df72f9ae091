"""Rich rendering of an ingest report (the text form of ``crswatch validate``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from crswatch.timeline import IngestReport

__all__ = ["render_report"]


def render_report(report: IngestReport, console: Console, *, max_issues: int = 50) -> None:
    status = "[green]OK[/]" if report.ok else "[bold red]REJECTED RECORDS[/]"
    source = escape(report.source or "")
    summary = Table(title=f"Ingest report: {source}  {status}", show_header=False)
    summary.add_column("what")
    summary.add_column("count", justify="right")
    for label, count in (
        ("patients read", report.patients_read),
        ("patients rejected", report.patients_rejected),
        ("events read", report.events_read),
        ("events accepted", report.events_accepted),
        ("events converted to canonical units", report.events_converted),
        ("events rejected", report.events_rejected),
        ("conflicts (same item and time)", len(report.conflicts)),
        ("unknown items", sum(report.unknown_items.values())),
        ("unknown codes", sum(report.unknown_codes.values())),
    ):
        summary.add_row(label, str(count))
    console.print(summary)
    if report.conversions:
        conversions = Table(title="Unit conversions")
        conversions.add_column("item: from -> to")
        conversions.add_column("events", justify="right")
        for label, count in sorted(report.conversions.items()):
            conversions.add_row(escape(label), str(count))
        console.print(conversions)
    if report.unknown_items or report.unknown_codes:
        unknown = Table(title="Unknown items and codes")
        unknown.add_column("name or code")
        unknown.add_column("events", justify="right")
        for name, count in sorted({**report.unknown_items, **report.unknown_codes}.items()):
            unknown.add_row(escape(name), str(count))
        console.print(unknown)
    if report.issues:
        issues = Table(title=f"Rejected records ({len(report.issues)})")
        for column in ("patient", "event", "field", "value", "problem"):
            issues.add_column(column, overflow="fold")
        for issue in report.issues[:max_issues]:
            event = "" if issue.event_index is None else str(issue.event_index)
            if issue.event_id:
                event += f" ({issue.event_id})"
            issues.add_row(
                escape(str(issue.patient_id)),
                escape(event),
                escape(issue.field),
                escape(repr(issue.value)),
                escape(issue.reason),
            )
        console.print(issues)
        if len(report.issues) > max_issues:
            console.print(f"... {len(report.issues) - max_issues} more (use --json for all)")
    for warning in report.warnings[:max_issues]:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
