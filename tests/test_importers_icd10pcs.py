"""ICD-10-PCS importer: the CMS codes-file and order-file layouts, browse levels and their names."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import shared_data

from generator import model
from generator.errors import BuildError
from generator.importers import codeset_importers
from generator.importers.icd10pcs import NAMES_FILE, Icd10PcsImporter, common_words, load_names, release_line

FIXTURES = Path(__file__).parent / "fixtures" / "icd10pcs"
CODES = FIXTURES / "icd10pcs_codes_2024.txt"
ORDER = FIXTURES / "icd10pcs_order_2024.txt"


def read(path: Path, **kwargs: Path) -> list[model.CodeRecord]:
    return list(Icd10PcsImporter(**kwargs).read(path))


def test_registered_and_default_source_is_the_packaged_codes_file() -> None:
    imp = codeset_importers()["icd10pcs"]
    assert isinstance(imp, Icd10PcsImporter) and imp.codeset == model.ICD10PCS
    src = imp.default_source()
    assert src is not None and src.name == "icd10pcs-codes-2024.txt"


def test_codes_file_hierarchy_in_order() -> None:
    recs = read(CODES)
    assert [(r.key, r.kind, r.parent) for r in recs[:5]] == [
        ("0", "section", None),
        ("00", "body-system", "0"),
        ("001", "root-operation", "00"),
        ("0016070", "code", "001"),
        ("0016071", "code", "001"),
    ]
    keys = [r.key for r in recs]
    assert keys[5:] == ["0D", "0DB", "0DB10ZZ", "0DT", "0DT10ZZ", "0DTN0ZZ", "0DTN4ZZ",
                        "G", "GZ", "GZ1", "GZ10ZZZ", "GZ11ZZZ", "X", "XW", "XW0", "XW033E5"]
    assert [r.order for r in recs] == list(range(1, len(recs) + 1))
    assert all(r.billable is True for r in recs if r.kind == "code")
    assert all(r.billable is None for r in recs if r.kind != "code")
    assert {r.source for r in recs} == {"ICD-10-PCS FY2024, CMS"}


def test_titles_read_well() -> None:
    by = {r.key: r for r in read(CODES)}
    assert by["0"].title == "Medical and Surgical"
    assert by["0D"].title == "Medical and Surgical — Gastrointestinal System"
    assert by["0DT"].title == "Gastrointestinal System, Resection"
    assert by["0DT10ZZ"].title == "Resection of Upper Esophagus, Open Approach"
    assert by["GZ"].title == "Mental Health (no body system)"
    assert by["GZ1"].title == "Mental Health, Psychological Tests"
    assert by["XW0"].title == "New Technology, Anatomical Regions, Introduction"


def test_character_facts() -> None:
    by = {r.key: r for r in read(CODES)}
    assert by["0DT10ZZ"].facts == [
        ("Section (character 1)", "0 — Medical and Surgical"),
        ("Body System (character 2)", "D — Gastrointestinal System"),
        ("Operation (character 3)", "T — Resection"),
        ("Body Part (character 4)", "1"),
        ("Approach (character 5)", "0"),
        ("Device (character 6)", "Z"),
        ("Qualifier (character 7)", "Z"),
    ]
    assert by["0DT10ZZ"].sections == []


def test_order_file_gives_the_same_pages_plus_short_titles() -> None:
    codes, order = read(CODES), read(ORDER)
    assert [(r.key, r.kind, r.parent, r.title, r.order) for r in codes] == [
        (r.key, r.kind, r.parent, r.title, r.order) for r in order
    ]
    by = {r.key: r for r in order}
    assert by["XW033E5"].short_title == "Introduce Remdesivir in Periph Vein, Perc, New Tech 5"
    assert by["0DT10ZZ"].short_title == ""  # same as the long title: not repeated


def test_names_fallbacks_for_a_newer_file(tmp_path: Path) -> None:
    names = tmp_path / "names.yml"
    names.write_text(
        'sections: {"0": {title: Medical and Surgical}}\nbody_systems: {}\nroot_operations: {}\n'
    )
    by = {r.key: r for r in read(CODES, names_file=names)}
    assert by["0D"].title == "Medical and Surgical — Body system D"
    assert by["0DT"].title == "Body system D, Resection"  # common leading words of its codes
    assert by["G"].title == "Section G"
    # An order file names its own tables when the names table does not.
    by = {r.key: r for r in read(ORDER, names_file=names)}
    assert by["0DT"].title == "Gastrointestinal System, Resection"


def test_common_words() -> None:
    assert (
        common_words(["Resection of Upper Esophagus, Open", "Resection of Sigmoid Colon, Open"])
        == "Resection"
    )
    assert common_words(["Psychological Tests, Developmental", "Psychological Tests, Personality"]) == (
        "Psychological Tests"
    )
    assert common_words(["Alpha", "Beta"]) == ""


def test_shipped_names_table_covers_all_sections() -> None:
    names = load_names(NAMES_FILE)
    assert len(names.sections) == 17
    assert names.body_systems["0D"] == "Gastrointestinal System"
    assert names.root_operations["0DT"] == "Resection"
    assert all(len(a) == 7 for a in names.axes.values())


def test_release_line() -> None:
    assert release_line(Path("icd10pcs_order_2025.txt")) == "ICD-10-PCS FY2025, CMS"
    assert release_line(Path("pcs.txt")) == "ICD-10-PCS, CMS"


def _first_lines(path: Path, n: int) -> str:
    return "".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:n])


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("0DT10ZZ Resection\nnot a code line\n", 2, "expected an ICD-10-PCS codes-file line"),
        ("0DT10ZZ Resection\n0DT10Z\n", 2, "expected an ICD-10-PCS codes-file line"),
        ("0DT10ZZ Resection\n0DT10ZZ Again\n", 2, "code 0DT10ZZ appears twice"),
        ("0DT10ZZ A\n0DB10ZZ B\n0DT4ZZZ C\n", 3, "codes of table 0DT appear again"),
        (_first_lines(ORDER, 3) + "0DT10ZZ Resection\n", 4, "expected an ICD-10-PCS order-file line"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "pcs.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BuildError, match=rf"^{re.escape(str(path))}:{line}: {message}"):
        read(path)


def test_empty_and_binary_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    with pytest.raises(BuildError, match="no ICD-10-PCS codes found"):
        read(empty)
    binary = tmp_path / "codes.txt"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(BuildError, match="not a UTF-8 text file"):
        read(binary)


@pytest.mark.slow
def test_full_packaged_codes_file() -> None:
    imp = Icd10PcsImporter()
    src = imp.default_source()
    assert src is not None
    recs = list(imp.read(src))
    codes = [r for r in recs if r.kind == "code"]
    lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.strip()]
    assert len(codes) == len(lines) == 78_603
    assert [r.key for r in codes] == [ln[:7] for ln in lines]
    assert sum(r.kind == "section" for r in recs) == 17
    assert sum(r.kind == "root-operation" for r in recs) == 905
    # Every browse level has an official name (no fallbacks on the release the table was made from).
    assert not any(r.title.startswith(("Section ", "Body system ")) for r in recs if r.kind != "code")


@pytest.mark.slow
@pytest.mark.shareddata
def test_full_order_file_matches_the_codes_file() -> None:
    order = shared_data() / "icd10pcs" / "icd10pcs_order_2024.txt.gz"
    imp = Icd10PcsImporter()
    src = imp.default_source()
    assert src is not None
    from_order = [(r.key, r.title, r.kind, r.parent) for r in imp.read(order)]
    from_codes = [(r.key, r.title, r.kind, r.parent) for r in imp.read(src)]
    assert from_order == from_codes
