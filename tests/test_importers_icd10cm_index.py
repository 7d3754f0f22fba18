"""ICD-10-CM Index and Tables importer: CDC's XML layout, every element of the schema, path:line errors."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from conftest import official_data

from generator import books as b
from generator.errors import BuildError
from generator.importers import book_importers
from generator.importers.icd10cm_index import IndexReader

BOOKS = Path(__file__).resolve().parent / "data" / "books"


def _term(book: b.IndexBook, *labels: str) -> b.IndexTerm:
    main = next(m for m in book.main_terms() if m.label == labels[0])
    for label in labels[1:]:
        main = next(c for c in main.children if c.label == label)
    return main


def test_index_reads_every_element_of_the_schema() -> None:
    book = IndexReader(b.CM_INDEX).read(BOOKS / "icd10cm_index_2025.xml")
    assert book.release == "ICD-10-CM Index to Diseases and Injuries FY2025, CDC"
    assert [letter.title for letter in book.letters] == ["A", "D", "E", "F", "H", "L", "N", "S"]
    diabetes = _term(book, "Diabetes, diabetic")
    assert (diabetes.nemod, diabetes.codes, diabetes.line) == ("(mellitus) (sugar)", ("E11.9",), 21)
    arthropathy = _term(book, "Diabetes, diabetic", "arthropathy NEC")
    assert (arthropathy.codes, arthropathy.manif) == (("E11.618",), "M14.6-")
    drug = _term(book, "Diabetes, diabetic", "due to drug or chemical")
    assert drug.subcat == "E09.-" and drug.warning.startswith("Use additional code")
    assert _term(book, "Entanglement", "in", "bed linen, causing suffocation").seecat == "T71"
    coma = _term(book, "Diabetes, diabetic", "type 2", "with", "hyperosmolarity", "with coma")
    assert (coma.level, coma.codes) == (4, ("E11.01",))
    # Text after the modifiers stays apart from them: printed "Lightning (effects) (stroke) NEC".
    lightning = _term(book, "Lightning NEC")
    assert (lightning.title, lightning.nemod, lightning.tail) == ("Lightning", "(effects) (stroke)", "NEC")
    assert lightning.printed == "Lightning (effects) (stroke) NEC" and lightning.subcat == "T75.0"
    # Addenda: <diff> keeps the unchanged and new text and drops the old.
    hyper = _term(book, "Hyperglycemia")
    assert (hyper.nemod, hyper.codes) == ("(transient)", ("R73.9",))
    assert _term(book, "Fracture, traumatic", "femur, femoral", "neck").see == "Fracture, femur, neck"
    assert _term(book, "Arthropathy").see_also == "Arthritis"


def test_tables_read_column_heads_and_cells() -> None:
    neo = IndexReader(b.CM_NEOPLASM).read(BOOKS / "icd10cm_neoplasm_2025.xml")
    assert neo.heads[:3] == ("Neoplasm", "Malignant Primary", "Malignant Secondary")
    lung = _term(neo, "Neoplasm, neoplastic", "lung")
    assert lung.cells == ("C34.9-", "C78.0-", "D02.2-", "D14.3-", "D38.1", "D49.1")
    leaf = _term(neo, "Neoplasm, neoplastic", "lung", "book-leaf")
    assert leaf.manif == "ventral surface of tongue" and leaf.cells[1] == "C79.89"  # inside <new>
    assert _term(neo, "Neoplasm, neoplastic", "femur").cells[2] == ""  # "-": no code
    drug = IndexReader(b.CM_DRUG).read(BOOKS / "icd10cm_drug_2025.xml")
    assert drug.heads[1] == "Poisoning Accidental (unintentional)"
    assert _term(drug, "Adhesive NEC").cells == ("T65.891", "T65.892", "T65.893", "T65.894", "", "")


def test_a_file_of_another_kind_is_refused_with_the_kind_to_use() -> None:
    with pytest.raises(
        BuildError,
        match=r"this is the Neoplasm Table, not the Table of Drugs and "
        r"Chemicals; import it as `icd10cm-neoplasm`",
    ):
        IndexReader(b.CM_DRUG).read(BOOKS / "icd10cm_neoplasm_2025.xml")
    with pytest.raises(
        BuildError,
        match=r"External Cause of Injuries Index, not the Index to Diseases "
        r"and Injuries; import it as `icd10cm-eindex`",
    ):
        IndexReader(b.CM_INDEX).read(BOOKS / "icd10cm_eindex_2025.xml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda s: s.replace("<code>E11.00</code>", "<code>E11.00</cod>"),
            r":36: not a readable "
            r".*mismatched tag",
        ),
        (lambda s: s[: s.index("<letter>\n    <title>E")], r":\d+: not a readable .*truncated"),
        (
            lambda s: s.replace('<term level="4">', '<term level="5">'),
            r':37: <term level="5"> under a '
            r"level-3 term",
        ),
        (
            lambda s: s.replace(
                "<code>E11.9</code>\n      <term", "<code>E11.9</code>\n      <color>red</color>\n      <term"
            ),
            r":24: unexpected element <color>",
        ),
        (
            lambda s: s.replace("<code>R73.9</code>", "<code>R73.99.9</code>"),
            r":\d+: <code> holds "
            r"'R73.99.9', which is not an ICD-10-CM code",
        ),
    ],
)
def test_malformed_or_truncated_files_name_path_and_line(
    tmp_path: Path, change: object, message: str
) -> None:
    text = (BOOKS / "icd10cm_index_2025.xml").read_text()
    bad = tmp_path / "icd10cm_index_2025.xml"
    bad.write_text(change(text))  # type: ignore[operator]
    with pytest.raises(BuildError, match=str(bad).replace(".", r"\.") + message):
        IndexReader(b.CM_INDEX).read(bad)


def test_a_damaged_gzip_copy_is_a_clear_error(tmp_path: Path) -> None:
    data = gzip.compress((BOOKS / "icd10cm_index_2025.xml").read_bytes())
    bad = tmp_path / "index.xml.gz"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(BuildError, match="cannot read the ICD-10-CM Index to Diseases and Injuries XML file"):
        IndexReader(b.CM_INDEX).read(bad)


def test_import_kinds_are_registered() -> None:
    kinds = book_importers()
    assert {"icd10cm-index", "icd10cm-eindex", "icd10cm-neoplasm", "icd10cm-drug"} <= kinds.keys()
    assert {"icd10pcs-tables", "icd10pcs-definitions", "icd10pcs-index"} <= kinds.keys()


@pytest.mark.shareddata
def test_shared_fy2025_files_read_completely() -> None:
    files = [
        (b.CM_INDEX, "icd10cm_index_2025_reconstructed.xml.gz"),
        (b.CM_EINDEX, "icd10cm_eindex_2025.xml.gz"),
        (b.CM_NEOPLASM, "icd10cm_neoplasm_2025.xml.gz"),
        (b.CM_DRUG, "icd10cm_drug_2025.xml.gz"),
    ]
    data = official_data(*(f"icd10cm-index/{name}" for _, name in files)) / "icd10cm-index"
    counts = {}
    for kind, name in files:
        book = IndexReader(kind).read(data / name)
        counts[kind] = (
            sum(1 for _ in book.main_terms()),
            sum(1 for m in book.main_terms() for _ in m.walk()),
        )
    # PROVENANCE.md: 8,100 main terms + 72,924 subterms; 314 + 7,750; 1,939 terms; 5,177 + 2,251.
    assert counts == {
        b.CM_INDEX: (8100, 81024),
        b.CM_EINDEX: (314, 8064),
        b.CM_NEOPLASM: (1, 1939),
        b.CM_DRUG: (5177, 7428),
    }
    drug = IndexReader(b.CM_DRUG).read(data / "icd10cm_drug_2025.xml.gz")
    assert _term(drug, "Acetaminophen").cells[:4] == ("T39.1X1", "T39.1X2", "T39.1X3", "T39.1X4")
