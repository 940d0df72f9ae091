"""Docs pages generated from each scale's criteria (the criteria table is the single source)."""

from __future__ import annotations

from pathlib import Path

from crswatch.scales._criteria import Scale

__all__ = ["render_markdown", "write_docs"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(scale: Scale) -> str:
    """The docs page of a scale: citation, criteria table, interpretations."""
    lines = [
        f"# {scale.title} (`{scale.id}`, version {scale.version})"
        if scale.kind == "crs"
        else f"# {scale.title} (`{scale.key}`, version {scale.version})",
        "",
        "<!-- Generated from CRITERIA by `crswatch scales --write-docs`; do not edit. -->",
        "",
        f"**Citation.** {scale.citation}" + (f" doi:{scale.doi}" if scale.doi else ""),
        "",
        "| criterion | grade | domain | wording | source | note |",
        "|---|---|---|---|---|---|",
    ]
    for criterion in scale.criteria:
        grade = str(criterion.grade)
        if criterion.grade_high is not None:
            grade += f"–{criterion.grade_high} (ambiguous)"
        lines.append(
            f"| `{criterion.id}` | {grade} | {criterion.domain} | {_cell(criterion.source_text)} "
            f"| {_cell(criterion.source_ref)} | {_cell(criterion.note or '')} |"
        )
    if scale.interpretations:
        lines += ["", "## Interpretations", ""]
        lines += [f"{i}. {text}" for i, text in enumerate(scale.interpretations, start=1)]
    lines += [
        "",
        "Grading evaluates every criterion and takes the highest grade met; a criterion that",
        "cannot be decided from the data makes the result `not_assessable` with bounds, and one",
        "whose wording leaves a range makes it `ambiguous` with bounds.",
        "",
    ]
    return "\n".join(lines)


def write_docs(scales: list[Scale], directory: Path) -> list[Path]:
    """Write one page per scale into ``directory`` (``Scale.page_name``); returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for scale in scales:
        path = directory / f"{scale.page_name}.md"
        path.write_text(render_markdown(scale), encoding="utf-8")
        written.append(path)
    return written
