"""CPT importer: the operator's licensed tab-separated file (fixtures use invented descriptors only)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator import model
from generator.errors import BuildError
from generator.importers import codeset_importers
from generator.importers.cpt import SOURCE, CptTsvImporter

FIXTURE = Path(__file__).parent / "fixtures" / "cpt" / "cpt-test.tsv"


def test_registered_without_a_default_source() -> None:
    imp = codeset_importers()["cpt"]
    assert isinstance(imp, CptTsvImporter)
    assert imp.codeset == model.CPT
    assert imp.default_source() is None


def test_reads_codes_in_file_order() -> None:
    recs = list(CptTsvImporter().read(FIXTURE))
    assert [(r.key, r.order) for r in recs] == [("99999", 1), ("0001F", 2), ("0002T", 3), ("0003U", 4)]
    first = recs[0]
    assert (first.codeset, first.kind, first.parent, first.billable) == ("cpt", "code", None, None)
    assert first.title == "Test descriptor for 99999"
    assert recs[2].title == "Test descriptor for 0002T, with a comma & an ampersand"
    assert {r.source for r in recs} == {SOURCE} == {"CPT® (AMA), licensed file supplied by the operator"}


def test_header_line_is_optional(tmp_path: Path) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text("99998\tTest descriptor for 99998\r\n", encoding="utf-8")
    assert [r.key for r in CptTsvImporter().read(path)] == ["99998"]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("99999\tTest descriptor for 99999\n9999\tTest descriptor for 9999\n", 2),
        ("99999 Test descriptor with a space instead of a tab\n", 1),
        ("99999\tTest descriptor for 99999\n\n1234X\tTest descriptor for 1234X\n", 3),
        ("99999\t\n", 1),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        BuildError, match=rf"^{re.escape(str(path))}:{line}: expected 'code<TAB>descriptor'.*got '"
    ):
        list(CptTsvImporter().read(path))


def test_duplicate_code(tmp_path: Path) -> None:
    path = tmp_path / "cpt.tsv"
    path.write_text("99999\tTest descriptor A\n99999\tTest descriptor B\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"cpt\.tsv:2: code 99999 appears twice \(first on line 1\)"):
        list(CptTsvImporter().read(path))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"missing\.tsv: cannot read the CPT file"):
        list(CptTsvImporter().read(tmp_path / "missing.tsv"))
    latin = tmp_path / "latin.tsv"
    latin.write_bytes(b"99999\tTest descriptor \xe9\n")
    with pytest.raises(BuildError, match=r"latin\.tsv: not a UTF-8 text file"):
        list(CptTsvImporter().read(latin))
