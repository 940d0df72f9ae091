"""``crswatch scales``: list the registered scales, or write their generated docs pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from crswatch.cli._app import app, console, emit_json, say

__all__ = ["scales"]


@app.command()
def scales(
    write_docs_to: Annotated[
        Path | None, typer.Option("--write-docs", help="Write one Markdown page per scale here.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The CRS and ICANS scales crswatch grades, with their citations."""
    from crswatch.scales import ALL_SCALES, write_docs

    if write_docs_to is not None:
        for path in write_docs(list(ALL_SCALES.values()), write_docs_to):
            say(f"wrote {path}")
        return
    rows = [
        {
            "id": s.id,
            "kind": s.kind,
            "key": s.key,
            "version": s.version,
            "title": s.title,
            "citation": s.citation,
            "doi": s.doi,
            "criteria": len(s.criteria),
        }
        for s in ALL_SCALES.values()
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title="CRS and ICANS scales")
    for column in ("syndrome", "id", "version", "title", "criteria", "citation"):
        table.add_column(column, overflow="fold")
    for scale in ALL_SCALES.values():
        table.add_row(
            scale.kind.upper(),
            scale.id,
            scale.version,
            escape(scale.title),
            str(len(scale.criteria)),
            escape(scale.citation),
        )
    console.print(table)
