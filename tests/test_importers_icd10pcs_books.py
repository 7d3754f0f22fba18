"""ICD-10-PCS Tables, Definitions and Index importers: CMS's XML layouts, path:line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import official_data

from generator.errors import BuildError
from generator.importers.icd10pcs_definitions import PcsDefinitionsReader
from generator.importers.icd10pcs_index import PcsIndexReader
from generator.importers.icd10pcs_tables import PcsTablesReader

BOOKS = Path(__file__).resolve().parent / "data" / "books"


def test_tables_rows_expand_to_their_codes() -> None:
    tables = PcsTablesReader().read(BOOKS / "icd10pcs_tables_2024.xml")
    assert tables.release == "ICD-10-PCS Tables FY2024, CMS"
    t = tables.tables[0]
    assert (t.key, t.head[3].label, t.titles[3]) == ("0DT", "Resection", "Operation")
    assert t.definition == "Cutting out or off, without replacement, all of a body part"
    assert list(t.rows[0].codes(t.key)) == ["0DTN0ZZ", "0DTN4ZZ"]
    assert t.rows[0].titles[5] == "Approach" and [v.label for v in t.rows[0].axes[5]] == [
        "Open",
        "Percutaneous Endoscopic",
    ]


def test_definitions_terms_and_device_aggregation() -> None:
    defs = PcsDefinitionsReader().read(BOOKS / "icd10pcs_definitions_2024.xml")
    found = defs.lookup()
    assert found[("0", 3, "resection")].definition.startswith("Cutting out or off")
    hip = found[("0", 4, "hip joint, right")]
    assert (
        hip.includes == ("Acetabulofemoral joint",)
        and found[("0", 4, "hip joint, left")].includes == hip.includes
    )
    assert defs.axis_titles[("0", 5)] == "Approach"
    agg = defs.aggregates[0]
    assert (agg.device, agg.parent, agg.parent_value, agg.body_systems) == (
        "Synthetic Substitute, Ceramic",
        "Synthetic Substitute",
        "J",
        ("Lower Joints",),
    )


def test_index_terms_with_use_see_codes_and_tables() -> None:
    book = PcsIndexReader().read(BOOKS / "icd10pcs_index_2024.xml")
    terms = {m.title: m for m in book.main_terms()}
    assert (terms["Colectomy"].see, terms["Colectomy"].see_codes) == (
        "Resection, Gastrointestinal System",
        ("0DT",),
    )
    assert terms["Sigmoid flexure"].use == "Sigmoid Colon"
    right = terms["Replacement"].children[0].children[0]
    assert (right.title, right.level, right.codes) == ("Right", 2, ("0SR9",))
    # A subterm may be only "use …" or "see …", without a title of its own.
    assert [c.use for c in terms["Acetabulofemoral joint"].children] == [
        "Hip Joint, Right",
        "Hip Joint, Left",
    ]


@pytest.mark.parametrize(
    ("reader", "name", "old", "new", "message"),
    [
        (
            PcsTablesReader,
            "icd10pcs_tables_2024.xml",
            '<label code="N">',
            '<label code="I">',
            r":15: <label code=\"I\"> is not a PCS character",
        ),
        (
            PcsTablesReader,
            "icd10pcs_tables_2024.xml",
            '<pcsRow codes="2">',
            '<pcsRow codes="3">',
            r":14: <pcsRow codes=\"3\"> but its values make 2 codes",
        ),
        (
            PcsDefinitionsReader,
            "icd10pcs_definitions_2024.xml",
            "<includes>Sigmoid flexure</includes>",
            "<includes>x</include>",
            r":27: not a readable",
        ),
        (
            PcsIndexReader,
            "icd10pcs_index_2024.xml",
            "<codes>0SR9</codes>",
            "<codes>0SR9?</codes>",
            r":39: <codes> holds '0SR9\?'",
        ),
    ],
)
def test_malformed_files_name_path_and_line(
    tmp_path: Path, reader: type, name: str, old: str, new: str, message: str
) -> None:
    text = (BOOKS / name).read_text()
    assert old in text
    bad = tmp_path / name
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(BuildError, match=str(bad).replace(".", r"\.") + message):
        reader().read(bad)


@pytest.mark.shareddata
def test_shared_2024_files_cover_every_valid_code() -> None:
    names = ("tables", "definitions", "index")
    data = official_data(*(f"icd10pcs/icd10pcs_{n}_2024_reconstructed.xml.gz" for n in names)) / "icd10pcs"
    tables = PcsTablesReader().read(data / "icd10pcs_tables_2024_reconstructed.xml.gz")
    codes = {c for t in tables.tables for r in t.rows for c in r.codes(t.key)}
    assert (
        len(tables.tables) == 905 and len(codes) == 78_603
    )  # PROVENANCE.md: every valid code of the order file
    defs = PcsDefinitionsReader().read(data / "icd10pcs_definitions_2024_reconstructed.xml.gz")
    assert defs.lookup()[("0", 3, "resection")].definition.startswith("Cutting out or off")
    index = PcsIndexReader().read(data / "icd10pcs_index_2024_reconstructed.xml.gz")
    appendectomy = next(m for m in index.main_terms() if m.title == "Appendectomy")
    assert [c.see_codes for c in appendectomy.children] == [("0DBJ",), ("0DTJ",)]
