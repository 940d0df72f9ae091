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
        "Grading evaluates every criterion and takes the highest grade met.  When a criterion",
        "cannot be decided for missing data, the result is *provisional* (the grade on the",
        "documented findings, with bounds and the missing inputs named) when the documented",
        "findings fix a grade, else *not assessable* with bounds; a criterion whose wording",
        "leaves a range makes it *ambiguous* with bounds.",
    ]
    lines += _context_paragraph(scale)
    lines.append("")
    return "\n".join(lines)


def _context_paragraph(scale: Scale) -> list[str]:
    """How the CRS-context rule (docs/decisions/0023-crs-context.md) applies to this scale."""
    rule = scale.context_rule
    if rule == "none":
        return []
    head = [
        "",
        "**CRS context** (the setting crs_definition, default astct2019):",
        "CRS is established at T by an attributable fever >= 38.0 °C at or after the therapy",
        "start, or by the ASTCT fever waiver (antipyretic or anticytokine therapy after the onset",
        "of the current CRS episode; Lee 2019 ASTCT consensus definition of CRS: fever at onset,",
        "following the immune therapy).",
    ]
    if rule == "definition":
        tail = [
            "This scale defines CRS by that rule: before it holds, the grade is 0 (with the",
            "findings in the evidence).",
        ]
    else:
        tail = [
            "This scale's wording does not say whether findings before that are CRS: the",
            "result is *ambiguous* [0, upper] (*not assessable* when no temperature decides",
            "it), never a hard grade >= 1.  The setting crs_definition = scale_literal grades the",
            "wording alone.",
        ]
    return head + tail


def write_docs(scales: list[Scale], directory: Path) -> list[Path]:
    """Write one page per scale into ``directory`` (``Scale.page_name``); returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for scale in scales:
        path = directory / f"{scale.page_name}.md"
        path.write_text(render_markdown(scale), encoding="utf-8")
        written.append(path)
    return written
