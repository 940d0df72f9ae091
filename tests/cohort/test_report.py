"""The cohort report and export, end to end: a small simulated cohort graded by the real
``grade_cohort``, then ``crswatch cohort report`` / ``export`` through the CLI."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crswatch.cli import app
from crswatch.cohort import grade_cohort, read_cohort
from crswatch.cohort._export import registry_fields
from crswatch.cohort._report import write_report
from crswatch.cohort._report_data import build_report, parse_pair
from crswatch.errors import InputError
from crswatch.simulate import write_cohort

runner = CliRunner()
SECTIONS = ("header", "cohort", "incidence", "onset", "tocilizumab", "agreement", "regrading", "pd")


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cohort-report")
    write_cohort(root / "source", 16, seed=5, shard_size=8)
    grade_cohort(root / "source", root / "graded.parquet")
    return root / "graded.parquet"


@pytest.fixture(scope="module")
def built(graded: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp("report")
    write_report(read_cohort(graded), out / "report.html", pdf=out / "report.pdf")
    return (out / "report.html").read_text("utf-8"), out / "report.pdf"


def test_html_is_self_contained_with_every_section_and_inline_svgs(
    built: tuple[str, Path], graded: Path
) -> None:
    html, _ = built
    for section in SECTIONS:
        assert f'id="{section}"' in html
    assert html.count("<svg") >= 4
    for figure in ("fig-incidence", "fig-onset", "fig-uln-lines", "fig-uln-boxes"):
        assert f'<figure id="{figure}">' in html
    # no network: no scripts, stylesheets or images fetched from anywhere
    assert "<script" not in html and "<link" not in html and "<img" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # the header states the source, the scales and the version from manifest.json
    manifest = read_cohort(graded).manifest
    assert manifest["source"] in html and f"{manifest['crswatch_version']}" in html
    assert "crs.penn2018" in html and "fever_window_hours" in html
    assert "penn2018 → astct2019" in html
    # The simulator gives each patient a best response (docs/decisions/0022), so the PD
    # section is stratified by responder status rather than saying response was not given.
    assert "Response was not given" not in html
    assert "by responder status" in html and ">responder<" in html
    # ids stay unique when several SVGs share the page
    ids = re.findall(r'id="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_pdf_text_is_set_in_a_font_that_has_its_symbols(built: tuple[str, Path]) -> None:
    """Helvetica, the PDF's standard font, is encoded in WinAnsi, which has no "≥": the
    incidence table's "grade ≥ 3" printed a box.  The report embeds Bitstream Vera instead."""
    from reportlab.pdfbase import pdfmetrics

    _, pdf = built
    data = pdf.read_bytes()
    assert b"Helvetica" not in data
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+BitstreamVeraSans-Roman", data)
    for face in ("Vera", "Vera-Bold"):
        covered = pdfmetrics.getFont(face).face.charToGlyph
        assert all(ord(symbol) in covered for symbol in "≥≤–—×µ°ä")


def test_pdf_exists_with_a_plausible_page_count(built: tuple[str, Path]) -> None:
    _, pdf = built
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert 5 <= pages <= 60


def test_report_numbers_add_up(graded: Path) -> None:
    report = build_report(read_cohort(graded))
    for row in report.incidence:
        graded_count = sum(row[f"grade_{g}"] for g in range(6))
        assert graded_count + row["uncertain"] == row["patients"] == 16
    for agreement in report.agreement:
        assert sum(map(sum, agreement.matrix)) == agreement.patients
        assert agreement.patients + agreement.excluded == 16
    assert {(g.source, g.target) for g in report.regrades} >= {("penn2018", "astct2019")}
    assert report.header["complete"] is True and report.header["patients"] == 16


def test_cli_report_and_export_exit_zero(graded: Path, tmp_path: Path) -> None:
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    result = runner.invoke(
        app,
        [
            "cohort",
            "report",
            str(graded),
            "-o",
            str(html),
            "--pdf",
            str(pdf),
            "--pair",
            "lee2014:astct2019",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "lee2014 → astct2019" in html.read_text("utf-8")
    assert pdf.read_bytes().startswith(b"%PDF")
    for registry in ("cibmtr", "ebmt"):
        out = tmp_path / f"{registry}.csv"
        result = runner.invoke(
            app, ["cohort", "export", str(graded), "--format", registry, "-o", str(out)]
        )
        assert result.exit_code == 0, result.output
        lines = out.read_text("utf-8").splitlines()
        rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
        assert list(rows[0]) == [f.column for f in registry_fields(registry)]
        assert len(rows) == 16 * 3
        grades = {
            r["crs_maximum_grade" if registry == "cibmtr" else "crs_maximum_grade_astct"]
            for r in rows
        }
        assert grades <= {"0", "1", "2", "3", "4", "5", "unknown"}


def test_cli_rejects_a_bad_pair_and_a_bad_format(graded: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["cohort", "report", str(graded), "-o", str(tmp_path / "r.html"), "--pair", "penn"]
    )
    assert result.exit_code == 2 and "SOURCE:TARGET" in result.output
    result = runner.invoke(
        app, ["cohort", "export", str(graded), "--format", "omop", "-o", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 2 and "omop" in result.output


def test_parse_pair() -> None:
    assert parse_pair("penn2018:astct2019") == ("penn2018", "astct2019")
    with pytest.raises(InputError, match="pair='penn2018'"):
        parse_pair("penn2018")


def test_a_car_t_only_cohort_says_what_it_cannot_show(tmp_path: Path) -> None:
    write_cohort(tmp_path / "source", 4, seed=2, therapy="car_t")
    grade_cohort(tmp_path / "source", tmp_path / "graded.parquet")
    html = tmp_path / "r.html"
    write_report(read_cohort(tmp_path / "graded.parquet"), html, pdf=tmp_path / "r.pdf")
    text = html.read_text("utf-8")
    assert "No T-cell-engager dose steps in this cohort." in text
    assert "No patient has a step or flat regimen." in text
    assert 'id="fig-steps"' not in text
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
