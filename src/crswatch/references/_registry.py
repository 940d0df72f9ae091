"""Every published source the management and regimen rules cite, with its verification status.

One row per reference: a stable anchor id (the dashboard's sources page links to it), the short
form that citations in rule text start with, the full citation as a clinician would write it,
where it was read, and how far it was verified, in plain words.  The status comes from
``shared/spec/clinical-criteria.md`` and ``shared/research/criteria-verification.md``; nothing
here is filled from memory (a missing author list or volume is left out, not guessed).

Statuses:

- ``verified``: the cited wording was read in the original (article, label or its verbatim
  transcription).
- ``secondary``: the wording was read in a secondary source that reproduces it (a review table,
  a label summary); the original was not read.
- ``partial``: parts were read (named in ``note``), the rest was not verified.
- ``unverified``: cited for orientation; its content was not verified against the publication.
- ``convention``: an operational reading of crswatch itself (a decision record), not evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal, get_args

from crswatch.errors import UnknownCodeError

__all__ = [
    "REFERENCES",
    "STATUS_TEXT",
    "Reference",
    "ReferenceStatus",
    "cite",
    "get_reference",
    "references_in",
    "render_sources_markdown",
]

ReferenceStatus = Literal["verified", "secondary", "partial", "unverified", "convention"]

#: The status in plain words, as the product shows it.
STATUS_TEXT: dict[str, str] = {
    "verified": "verified against the original wording",
    "secondary": "verified in a secondary source that reproduces it; original not read",
    "partial": "partly verified (see note)",
    "unverified": "not verified against the original publication",
    "convention": "a convention of this software, not a published source",
}


@dataclass(frozen=True, slots=True)
class Reference:
    """One published source: how it is cited, where it was read, how far it was verified."""

    id: str
    #: The form citations start with ("Lee et al., Blood 2014"); unique across the registry.
    short: str
    citation: str
    status: ReferenceStatus
    url: str | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if self.status not in get_args(ReferenceStatus):
            raise ValueError(f"reference {self.id!r}: status={self.status!r}")

    @property
    def status_text(self) -> str:
        return STATUS_TEXT[self.status]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "short": self.short,
            "citation": self.citation,
            "status": self.status,
            "status_text": self.status_text,
            "url": self.url,
            "note": self.note,
        }


_ROWS: tuple[Reference, ...] = (
    Reference(
        "lee2014",
        "Lee et al., Blood 2014",
        "Lee DW, Gardner R, Porter DL, et al. Current concepts in the diagnosis and management "
        "of cytokine release syndrome. Blood 2014;124(2):188-195.",
        "verified",
        "https://www.ncbi.nlm.nih.gov/pubmed/24876563",
        "Full text read. The treatment doses it prints (tocilizumab 4 mg/kg in adults and "
        "8 mg/kg in children, methylprednisolone 2 mg/kg/day, dexamethasone 0.5 mg/kg up to "
        "10 mg) are quoted from the article; its erratum on dosage was not read.",
    ),
    Reference(
        "lee2014-erratum",
        "Erratum to Lee et al., Blood 2015",
        "Dosage error in article text (erratum to Lee et al. 2014). Blood 2015;126(8):1048.",
        "unverified",
        None,
        "The content of the erratum was not read: which dose it corrects is unknown.",
    ),
    Reference(
        "management-review-table4",
        "CRS management review table (PubMed Central PMC9616161)",
        "Review article comparing CRS management systems (Lee et al. 2014; Neelapu et al. 2018; "
        "ASTCT 2019; Santomasso et al., ASCO 2021), Table 4 'CRS management system'. PubMed "
        "Central PMC9616161 (authors not recorded in the project's notes).",
        "secondary",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC9616161/table/T4",
    ),
    Reference(
        "astct2019",
        "Lee et al., Biol Blood Marrow Transplant 2019",
        "Lee DW, et al. ASTCT consensus grading for cytokine release syndrome and neurologic "
        "toxicity associated with immune effector cells. Biol Blood Marrow Transplant "
        "2019;25:625-638.",
        "secondary",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC8403007/table/t0004",
        "Tables and footnotes read as reproduced in review tables; the CAPD grading for children "
        "in a secondary summary.",
    ),
    Reference(
        "gc-car-t",
        "Guideline Central CAR T pocket guide",
        "Guideline Central. Immune-Related Adverse Events: CAR T-Cell Therapy (pocket guide; "
        "graded by ASTCT 2019, wording appears to follow Santomasso et al., ASCO guideline, "
        "J Clin Oncol 2021). Table 1 (CRS) and Table 2 (ICANS).",
        "partial",
        "https://eguideline.guidelinecentral.com/i/1475467/5",
        "Read: CRS grades 3 and 4, ICANS grades 1 to 3 and the notes. Not verified: CRS grades "
        "1 and 2 and ICANS grade 4 (those pages were not available); the attribution to the "
        "ASCO 2021 guideline.",
    ),
    Reference(
        "ash-bispecific-crs",
        "ASH guidance on CRS with bispecific antibodies",
        "American Society of Hematology publications: outpatient management of cytokine "
        "release syndrome with CD3 x CD20 bispecific antibodies (guidance figure).",
        "verified",
        "http://ashpublications.net/view-large/12190144",
    ),
    Reference(
        "neelapu2018",
        "Neelapu et al., Nat Rev Clin Oncol 2018",
        "Neelapu SS, et al. Chimeric antigen receptor T-cell therapy: assessment and management "
        "of toxicities (CARTOX). Nat Rev Clin Oncol 2018.",
        "secondary",
        None,
        "Grade 1 and 2 management read as tabulated in the CRS management review table "
        "(PMC9616161, Table 4).",
    ),
    Reference(
        "mgh-carhlh",
        "MGH White Book carHLH summary",
        "Massachusetts General Hospital White Book: carHLH diagnosis and management (after "
        "Neelapu et al. 2018), as reproduced on GrepMed.",
        "secondary",
        "https://www.grepmed.com/images/9558",
        "Only this summary was read; the full carHLH wording of Neelapu et al. was not.",
    ),
    Reference(
        "hines2023",
        "Hines et al., Transplant Cell Ther 2023",
        "Hines MR, Knight TE, McNerney KO, et al. Immune effector cell-associated hemophagocytic "
        "lymphohistiocytosis-like syndrome (IEC-HS), ASTCT. Transplant Cell Ther 2023.",
        "unverified",
        None,
        "The criteria, severity grading and treatment were not found in any source read.",
    ),
    Reference(
        "mahadeo2019",
        "Mahadeo et al., Nat Rev Clin Oncol 2019",
        "Mahadeo KM, et al. Management guidelines for paediatric patients receiving CAR T cell "
        "therapy. Nat Rev Clin Oncol 2019.",
        "unverified",
        "http://preview-www.nature.com/articles/s41571-018-0075-2/tables/2",
        "Only Table 2 (grading) was read; its paediatric doses were not verified.",
    ),
    Reference(
        "actemra-label",
        "ACTEMRA (tocilizumab) US prescribing information",
        "ACTEMRA (tocilizumab) US prescribing information (Genentech), cytokine release "
        "syndrome: dosage and administration.",
        "verified",
        "https://www.drugs.com/dosage/tocilizumab.html",
        "Read in a label-derived transcription: under 30 kg 12 mg/kg, 30 kg or more 8 mg/kg IV "
        "over 60 minutes; doses over 800 mg per infusion not recommended; if no clinical "
        "improvement after the first dose, up to 3 additional doses, at least 8 hours apart.",
    ),
    Reference(
        "kymriah-label",
        "KYMRIAH (tisagenlecleucel) US prescribing information",
        "KYMRIAH (tisagenlecleucel) US prescribing information (Novartis), CRS management table.",
        "secondary",
        "http://www.120ty.net/bencandy.php?fid=134&id=40144",
        "Read in a transcription: 'Limit to a maximum total of 4 tocilizumab doses.'",
    ),
    Reference(
        "tocilizumab-24h-limit",
        "Institutional tocilizumab limits (Exp Hematol Oncol 2020, Table 2)",
        "Guideline and institutional wording 'no more than 3 doses in 24 h, with a maximum of "
        "4 doses total': Exp Hematol Oncol 2020 (article s40164-020-00171-5), Table 2; ASH-SAP "
        "Table 3 (University of Miami).",
        "verified",
        None,
        "Not label wording: the ACTEMRA label sets no per-24-hour limit.",
    ),
    Reference(
        "steroid-equivalence",
        "Glucocorticoid equivalence (FDA prednisolone label)",
        "FDA prednisolone label, equivalence statement (prednisolone 15 mg = hydrocortisone "
        "60 mg = prednisone 15 mg = methylprednisolone 12 mg = dexamethasone 2.25 mg), as "
        "quoted in a secondary article; consistent with Neuro-Oncology Practice 2014;2(1):6, "
        "Table 1 (PMC4369706).",
        "secondary",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC4369706",
        "Anti-inflammatory equivalence; dexamethasone 0.75 to 0.8 mg across tables.",
    ),
    Reference(
        "blincyto-label",
        "BLINCYTO (blinatumomab) US prescribing information",
        "BLINCYTO (blinatumomab) US prescribing information (Amgen), current version: dosage, "
        "hospitalisation, premedication and dose modifications for adverse reactions.",
        "verified",
        "https://www.blincytohcp.com/rr/dosing/adjustments",
        "Verified: CRS grade 3 and 4 actions, restart doses, the 7-day interruption rule and "
        "hospitalisation. Not verified: which CRS grading scale the current label uses.",
    ),
    Reference(
        "blincyto-label-2015",
        "BLINCYTO US prescribing information 2014-2015",
        "BLINCYTO (blinatumomab) US prescribing information, 2014-2015 versions, as summarised "
        "in a review table 'Toxicity Management' (PubMed Central PMC4994468, Table 1).",
        "secondary",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC4994468/table/T1",
    ),
    Reference(
        "blincyto-dosing-tables",
        "BLINCYTO dosing tables",
        "BLINCYTO dosing tables by cycle and body weight: US prescribing information (drugs.com "
        "transcription), review table PubMed Central PMC6368716 Table 1, and the Hong Kong "
        "product information (MIMS).",
        "verified",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC6368716/table/Tab1",
    ),
    Reference(
        "blincyto-smpc",
        "BLINCYTO EU summary of product characteristics",
        "BLINCYTO (blinatumomab) EU summary of product characteristics, as published in the "
        "Hong Kong product information (MIMS).",
        "secondary",
        "https://www.mims.com/hongkong/drug/info/blincyto/dosage",
    ),
    Reference(
        "ojemolon2022",
        "Ojemolon et al., Cureus 2022",
        "Ojemolon PE, Kalidindi S, Ahlborn TA, Aihie OP, Awoyomi MI. Cytokine release syndrome "
        "following blinatumomab therapy. Cureus 2022.",
        "verified",
    ),
    Reference(
        "frey2016",
        "Frey & Porter, Hematology Am Soc Hematol Educ Program 2016",
        "Frey N, Porter D. Cytokine release syndrome with novel therapeutics for acute "
        "lymphoblastic leukemia. Hematology Am Soc Hematol Educ Program 2016.",
        "verified",
    ),
    Reference(
        "teachey2013",
        "Teachey et al., Blood 2013",
        "Teachey DT, et al. Cytokine release syndrome after blinatumomab treatment related to "
        "abnormal macrophage activation, treated with cytokine-directed therapy. Blood 2013.",
        "verified",
    ),
    Reference(
        "nagele2017",
        "Nägele et al., Exp Hematol Oncol 2017",
        "Nägele V, et al. Changes in clinical laboratory parameters and pharmacodynamic markers "
        "in response to blinatumomab treatment of patients with relapsed/refractory ALL. Exp "
        "Hematol Oncol 2017;6:14.",
        "verified",
    ),
    Reference(
        "crswatch-convention",
        "crswatch convention",
        "crswatch convention: an operational reading of a published rule where the source "
        "leaves a detail open; documented in the project's decision records. Not a published "
        "source.",
        "convention",
        None,
        "A convention of this software, not clinical evidence.",
    ),
    # The step-up bispecific labels (shared/research/criteria-verification.md §5): read in label
    # transcriptions and manufacturers' pages, not in the FDA PDF itself.
    *(
        Reference(
            f"{product}-label",
            brand,
            f"{brand} ({inn}) US prescribing information (Dosage and Administration; dose "
            "modifications for CRS where the label's table was read).",
            "secondary",
            None,
            "Read in label transcriptions and the manufacturer's pages (named in each citation); "
            "rows not found there are labelled as not verified in the product.",
        )
        for product, brand, inn in (
            ("teclistamab", "TECVAYLI", "teclistamab-cqyv"),
            ("elranatamab", "ELREXFIO", "elranatamab-bcmm"),
            ("talquetamab", "TALVEY", "talquetamab-tgvs"),
            ("epcoritamab", "EPKINLY", "epcoritamab-bysp"),
            ("glofitamab", "COLUMVI", "glofitamab-gxbm"),
            ("mosunetuzumab", "LUNSUMIO", "mosunetuzumab-axgb"),
            ("tarlatamab", "IMDELLTRA", "tarlatamab-dlle"),
        )
    ),
    Reference(
        "teclistamab-icans-table",
        "Teclistamab label ICANS table",
        "Teclistamab label ICANS table as reproduced in J Adv Pract Oncol 2023 (PubMed Central "
        "PMC10062534), Table 5, 'Information from Janssen Biotech, Inc. (2022)'.",
        "secondary",
        None,
        "The label's table as reproduced in a review; the reproduced text is truncated.",
    ),
)

REFERENCES = MappingProxyType({row.id: row for row in _ROWS})


def get_reference(ref_id: str) -> Reference:
    """The reference ``ref_id``; raises :class:`UnknownCodeError` naming the known ids."""
    try:
        return REFERENCES[ref_id]
    except KeyError:
        raise UnknownCodeError(ref_id, f"the references ({', '.join(REFERENCES)})") from None


def cite(ref_id: str, where: str = "") -> str:
    """The citation as rule text shows it: the short form, then the place (table, section)."""
    short = get_reference(ref_id).short
    return f"{short}, {where}" if where else short


def references_in(text: str) -> tuple[Reference, ...]:
    """The references whose short form appears in ``text`` (a rule's citation), in order."""
    found = [(text.find(row.short), row) for row in _ROWS if row.short in text]
    # A short form inside a longer one (none today) would be found twice: keep the longest.
    kept = [
        (pos, row)
        for pos, row in found
        if not any(other is not row and row.short in other.short for _, other in found)
    ]
    return tuple(row for _, row in sorted(kept, key=lambda pair: pair[0]))


def render_sources_markdown() -> str:
    """``docs/sources.md``: every reference with its verification status (a test keeps the
    committed page equal to this)."""
    lines = [
        "# Sources and their verification status",
        "",
        "Every recommendation crswatch makes names its source; this is the list of those",
        "sources (generated from `crswatch.references`; the dashboard shows the same list at",
        "`/sources`, and every citation on the patient page links to its row).  The status says",
        "how far each was checked against the published wording:",
        "",
    ]
    lines += [f"- **{status}**: {text}." for status, text in STATUS_TEXT.items()]
    lines += ["", "| Reference | Citation | Status | Note |", "|---|---|---|---|"]
    for row in sorted(_ROWS, key=lambda ref: ref.short.lower()):
        citation = row.citation + (f" <{row.url}>" if row.url else "")
        note = (row.note or "").replace("|", "/")
        lines.append(
            f'| <a id="{row.id}"></a>{row.short} | {citation} | {row.status_text} | {note} |'
        )
    lines += [
        "",
        "The grading scales cite their own publications in their pages under `docs/scales/`.",
        "",
    ]
    return "\n".join(lines)
