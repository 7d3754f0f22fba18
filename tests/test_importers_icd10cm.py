"""ICD-10-CM importer: small fixtures in the CDC tabular schema, plus one check of the full packaged file."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator import model
from generator.errors import BuildError
from generator.importers import codeset_importers
from generator.importers.icd10cm import Icd10CmImporter, release_line

FIXTURE = Path(__file__).parent / "fixtures" / "icd10cm" / "icd10cm-tabular-October-1-2025.xml"


@pytest.fixture(scope="module")
def records() -> dict[str, model.CodeRecord]:
    return {r.key: r for r in Icd10CmImporter().read(FIXTURE)}


def section(rec: model.CodeRecord, kind: str) -> model.Section:
    found = [s for s in rec.sections if s.kind == kind]
    assert len(found) == 1, f"{rec.key} has {len(found)} {kind!r} sections"
    return found[0]


def kinds(rec: model.CodeRecord) -> list[str]:
    return [s.kind for s in rec.sections]


def test_registered_and_default_source_is_the_packaged_xml() -> None:
    imp = codeset_importers()["icd10cm"]
    assert isinstance(imp, Icd10CmImporter)
    assert imp.codeset == model.ICD10CM
    src = imp.default_source()
    assert src is not None and src.is_file()
    assert re.fullmatch(r"icd10cm?-tabular-.*\.xml", src.name)


def test_records_come_in_official_order_parents_first() -> None:
    recs = list(Icd10CmImporter().read(FIXTURE))
    keys = [r.key for r in recs]
    assert keys[:9] == ["chapter-4", "E08-E13", "E11", "E11.6", "E11.65", "E11.9", "E36-E36", "E36", "E36.8"]
    assert [r.order for r in recs] == sorted({r.order for r in recs})  # strictly increasing
    seen: set[str] = set()
    for r in recs:
        assert r.parent is None or r.parent in seen, f"{r.key} comes before its parent {r.parent}"
        seen.add(r.key)
    assert len(keys) == len(set(keys))


def test_chapters_and_blocks(records: dict[str, model.CodeRecord]) -> None:
    ch = records["chapter-19"]
    assert (ch.kind, ch.label, ch.parent, ch.billable) == ("chapter", "Chapter 19", None, None)
    assert ch.title == "Injury, poisoning and certain other consequences of external causes (S00-T88)"
    block = records["S70-S79"]
    assert (block.kind, block.parent, block.title) == (
        "section", "chapter-19", "Injuries to the hip and thigh (S70-S79)",
    )
    # A one-category block must not take its category's page.
    assert records["E36-E36"].kind == "section"
    assert (records["E36"].kind, records["E36"].parent) == ("code", "E36-E36")


def test_billable_flags_and_status_facts(records: dict[str, model.CodeRecord]) -> None:
    assert records["E11.9"].billable is True
    assert records["E11.9"].facts == [("Status", "Billable/Specific code")]
    assert records["E11"].billable is False
    assert records["E11"].facts[0][1].startswith("Header")
    # A leaf code that still needs its 7th character is not valid on a claim.
    assert records["S72.001"].billable is False
    assert "7th character" in records["S72.001"].facts[0][1]


def test_seventh_character_codes(records: dict[str, model.CodeRecord]) -> None:
    a = records["S72.001A"]
    assert (
        a.title
        == "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"
    )
    assert (a.parent, a.billable, a.kind) == ("S72.001", True, "code")
    assert ("7th character", "A — initial encounter for closed fracture") in a.facts
    assert {k for k in records if k.startswith("S72.001")} == {"S72.001", "S72.001A", "S72.001B", "S72.001S"}
    # Placeholder X fills the code up to 6 characters before the 7th.
    assert records["T17.0XXA"].title == "Foreign body in nasal sinus, initial encounter"
    assert records["T07.XXXS"].parent == "T07"
    # The nearest ancestor's definition wins (S72.4 overrides S72).
    assert {k for k in records if k.startswith("S72.40")} == {"S72.40", "S72.40XA", "S72.40XK"}
    # S06: 7th characters D and S do not apply with 6th character 7 (stated in a note of the tabular).
    assert {k for k in records if k.startswith("S06.1X7")} == {"S06.1X7", "S06.1X7A"}
    assert {k for k in records if k.startswith("S06.1X1")} == {"S06.1X1", "S06.1X1A", "S06.1X1D", "S06.1X1S"}
    # Headers with subcodes get no extensions.
    assert not any(
        k.startswith("S72.0") and len(k) == 8 and k[-1] == "A" and k != "S72.001A" for k in records
    )


def test_extended_codes_come_right_after_their_base() -> None:
    keys = [r.key for r in Icd10CmImporter().read(FIXTURE)]
    i = keys.index("S72.001")
    assert keys[i : i + 4] == ["S72.001", "S72.001A", "S72.001B", "S72.001S"]


def test_own_notes_then_inherited_under_a_from_heading(records: dict[str, model.CodeRecord]) -> None:
    s72 = records["S72"]
    ex2 = section(s72, "excludes2")
    assert ex2.title == "Excludes2" and ex2.id == "excludes2"
    # Own note first, then the block's, then the chapter's, each group named.
    own = ex2.html.index("periprosthetic")
    block = ex2.html.index("From <a")
    assert own < block
    assert ex2.html.index("frostbite") < ex2.html.index("birth trauma")
    assert (
        'From <a href="/icd-10-cm/S70-S79/">S70-S79</a> — Injuries to the hip and thigh (S70-S79)' in ex2.html
    )
    assert 'From <a href="/icd-10-cm/chapter-19/">Chapter 19</a> — Injury' in ex2.html
    assert ex2.text.splitlines()[0] == "periprosthetic fracture of prosthetic implant of hip (M97.0-)"
    assert "From S70-S79 — Injuries to the hip and thigh (S70-S79)" in ex2.text

    code = records["S72.001"]
    ex1 = section(code, "excludes1")
    assert ex1.html.startswith(
        '<h3 class="from">From <a href="/icd-10-cm/S72/">S72</a> — Fracture of femur</h3>'
    )
    ex2 = section(code, "excludes2")
    assert ex2.html.index("S72.0/") < ex2.html.index("S72/") < ex2.html.index("S70-S79/")
    assert section(code, "notes").text.startswith("From S72 — Fracture of femur\nA fracture not indicated")
    # Inclusion terms are carried down like every other note, under the ancestor's name.
    assert "inclusion-terms" in kinds(records["S72.00"])
    assert kinds(code) == ["notes", "inclusion-terms", "excludes1", "excludes2", "seventh-character"]
    assert section(code, "inclusion-terms").html.startswith(
        '<h3 class="from">From <a href="/icd-10-cm/S72.00/">S72.00</a>'
    )


def test_section_titles_and_ids(records: dict[str, model.CodeRecord]) -> None:
    e11 = records["E11"]
    assert [(s.id, s.title) for s in e11.sections] == [
        ("notes", "Notes"),
        ("inclusion-terms", "Inclusion terms"),
        ("excludes1", "Excludes1"),
        ("use-additional-code", "Use additional code"),
    ]
    assert all(s.protected is None for r in records.values() for s in r.sections)


def test_code_references_link_to_existing_pages(records: dict[str, model.CodeRecord]) -> None:
    html = section(records["S72"], "excludes1").html
    assert '(<a href="/icd-10-cm/S78/">S78.-</a>)' in html
    # M97.0 is not in this file: stays text.
    assert "(M97.0-)" in section(records["S72"], "excludes2").html
    assert '<a href="/icd-10-cm/E11.9/">E11.9</a>' in section(records["E11.65"], "excludes2").html
    # A range that is a block links to the block; other ranges link the ends that exist.
    assert '(<a href="/icd-10-cm/S00-S09/">S00-S09</a>)' in html
    assert '(<a href="/icd-10-cm/S72/">S72</a>-S79)' in html
    assert "birth trauma (P10-P15)</li>" in section(records["S72"], "excludes2").html


def test_note_text_is_escaped(records: dict[str, model.CodeRecord]) -> None:
    ex1 = section(records["E11"], "excludes1")
    assert "&amp; other &lt;rare&gt; forms" in ex1.html
    assert "& other <rare> forms" in ex1.text
    assert "<rare>" not in ex1.html


def test_seventh_character_section(records: dict[str, model.CodeRecord]) -> None:
    own = section(records["S72"], "seventh-character")
    assert own.title == "7th character"
    assert "From" not in own.html  # defined here
    assert "<p>The appropriate 7th character is to be added to all codes from category" in own.html
    assert '<th scope="row">B</th><td>initial encounter for open fracture type I or II<br>' in own.html
    assert 'class="applies"' not in own.html
    inherited = section(records["S72.001"], "seventh-character")
    assert inherited.html.startswith('<h3 class="from">From <a href="/icd-10-cm/S72/">S72</a>')
    ext = section(records["S72.001B"], "seventh-character")
    assert ext.html.count('class="applies"') == 1
    assert '<tr class="applies"><th scope="row">B</th>' in ext.html
    assert "B: initial encounter for open fracture type I or II (this code)" in ext.text
    assert "seventh-character" not in kinds(records["E11.9"])


def test_source_line() -> None:
    assert release_line("2026", FIXTURE) == "ICD-10-CM FY2026 (October 1, 2025 update), CDC"
    assert release_line("2026", Path("tabular.xml")) == "ICD-10-CM FY2026, CDC"
    assert release_line("", Path("x.xml")) == "ICD-10-CM, CDC"
    recs = list(Icd10CmImporter().read(FIXTURE))
    assert {r.source for r in recs} == {"ICD-10-CM FY2026 (October 1, 2025 update), CDC"}


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "tabular.xml"
    path.write_text(FIXTURE.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return path


def test_not_xml_names_file_and_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "<name>E11.9</name>", "<name>E11.9</nam>")
    with pytest.raises(
        BuildError, match=rf"^{re.escape(str(path))}:53: not a readable ICD-10-CM tabular XML"
    ):
        list(Icd10CmImporter().read(path))


def test_wrong_root(tmp_path: Path) -> None:
    path = tmp_path / "other.xml"
    path.write_text("<?xml version='1.0'?>\n<ICD10PCS.tabular/>\n", encoding="utf-8")
    with pytest.raises(BuildError, match=r"other\.xml:1: expected the root element <ICD10CM\.tabular>"):
        list(Icd10CmImporter().read(path))


def test_missing_desc_names_the_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "<desc>Type 2 diabetes mellitus without complications</desc>", "")
    with pytest.raises(BuildError, match=rf"^{re.escape(str(path))}:52: <diag> without <name> or <desc>"):
        list(Icd10CmImporter().read(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match=r"nope\.xml: cannot read"):
        list(Icd10CmImporter().read(tmp_path / "nope.xml"))


@pytest.mark.slow
def test_full_packaged_file_matches_the_official_code_list() -> None:
    imp = Icd10CmImporter()
    src = imp.default_source()
    assert src is not None
    recs = list(imp.read(src))
    by_key = {r.key: r for r in recs}
    assert len(by_key) == len(recs)
    listed = (src.parent / "code-list-April-2026.txt").read_text(encoding="utf-8").split()
    chapters = {r.label.removeprefix("Chapter ") for r in recs if r.kind == "chapter"}
    expected = {c for c in listed if c not in chapters and "-" not in c}
    codes = {r.key.replace(".", "") for r in recs if r.kind == "code"}
    assert codes == expected
    assert len(recs) == len(listed)  # every chapter, block and code, one record each
    s = by_key["S72.001A"]
    assert (
        s.title
        == "Fracture of unspecified part of neck of right femur, initial encounter for closed fracture"
    )
    assert s.billable is True and s.parent == "S72.001"
    assert by_key["E11.9"].billable is True
    assert by_key["E11"].billable is False
    assert by_key["T07.XXXA"].billable is True
    assert by_key["S72.001A"].source == "ICD-10-CM FY2026 (April 1, 2026 update), CDC"
    # Inclusion terms (and the instructions CDC stores as inclusion terms on blocks) reach descendants.
    hip = next(sec for sec in s.sections if sec.kind == "inclusion-terms")
    assert "From S72.00 — Fracture of unspecified part of neck of femur\nFracture of hip NOS" in hip.text
    # Premium note sections name their release inside the section; public ones rely on the page's line.
    cite = '<p class="premium-source">Source: ICD-10-CM FY2026 (April 1, 2026 update), CDC</p>'
    for sec in s.sections:
        assert sec.html.endswith(cite) == (sec.kind not in ("notes", "inclusion-terms")), sec.kind
    z = next(sec for sec in by_key["Z41.1"].sections if sec.kind == "inclusion-terms")
    assert '<h3 class="from">From <a href="/icd-10-cm/Z40-Z53/">Z40-Z53</a>' in z.html
    assert "Categories Z40-Z53 are intended for use to indicate a reason for care" in z.text


def test_gzipped_copy_reads_the_same(tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "icd10cm-tabular-October-1-2025.xml.gz"
    packed.write_bytes(gzip.compress(FIXTURE.read_bytes()))
    plain = [(r.key, r.title, r.source) for r in Icd10CmImporter().read(FIXTURE)]
    assert [(r.key, r.title, r.source) for r in Icd10CmImporter().read(packed)] == plain
    broken = tmp_path / "broken.xml.gz"
    broken.write_bytes(gzip.compress(b"<ICD10CM.tabular><chapter>")[:-8])
    with pytest.raises(BuildError, match=r"broken\.xml\.gz"):
        list(Icd10CmImporter().read(broken))
