"""A replaced CMS file rewrites only the store rows and pages it feeds (generator/premium_update.py), and
they are what a full build of the same inputs writes (the fast path's plain twin)."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from cms_fixtures import CMS
from test_premium_files import SHIPPED_FIXTURES, ship

from generator.build import build
from generator.config import SiteConfig
from generator.premium import import_premium

MUE = CMS / SHIPPED_FIXTURES["mue-practitioner"]


def rows(root: Path) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    """Each code's protected sections as (id, title, text hash): what an unlock returns."""
    db = sqlite3.connect(root / "var" / "protected.sqlite")
    q = ("SELECT c.codeset, c.key, l.id, l.title, hex(b.hash) FROM codes c"
         " LEFT JOIN lists l ON l.list = c.list LEFT JOIN blobs b ON b.id = l.blob"
         " ORDER BY c.codeset, c.key, l.position")
    out: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for cs, key, sid, title, h in db.execute(q):
        out.setdefault((cs, key), [])
        if sid is not None:
            out[(cs, key)].append((sid, title, h))
    db.close()
    return out


def pages(root: Path) -> dict[str, bytes]:
    site = (root / "site").resolve()
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


def copy_project(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    link = dest / "site"
    target = str(link.readlink()).replace(str(src), str(dest))
    link.unlink()
    link.symlink_to(target)
    return dest


@pytest.fixture
def built(tmp_path: Path) -> Path:
    from conftest import make_project

    root = make_project(tmp_path / "proj", pages=True)
    ship(root, {k: v for k, v in SHIPPED_FIXTURES.items() if k != "hcpcs"})
    build(root, quiet=True, jobs=1, search=False)
    return root


CORRECTED = "2024-07-01 (corrected)"


def newer_mue(tmp_path: Path) -> Path:
    """A corrected MUE practitioner file of the same quarter (imported with --release CORRECTED): one value
    changed. A file of another quarter is kept beside this one (release history: the full build)."""
    newer = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"
    newer.write_text(MUE.read_text().replace("99213,2,3", "99213,3,3"))
    return newer


def answers(root: Path) -> dict[tuple[str, str], bytes]:
    """What an unlock of each code page answers (premium sections rendered on demand)."""
    from generator.store_reader import StoreReader

    reader = StoreReader(root / "var" / "protected.sqlite")
    try:
        return {k: reader.lookup_json(*k) or b"" for k in rows(root)}
    finally:
        reader.close()


def test_a_replaced_mue_file_rewrites_its_rows_and_pages_as_a_full_build_would(
    built: Path, tmp_path: Path
) -> None:
    before_rows, before_pages, before = rows(built), pages(built), answers(built)
    import_premium(SiteConfig(root=built), "mue-practitioner", newer_mue(tmp_path), CORRECTED)
    result = build(built, quiet=True, jobs=1, search=False)
    assert result.mode == "premium"
    after_rows, after_pages, after = rows(built), pages(built), answers(built)
    # The store keeps references to the premium sections: no row changes, the store names the new file.
    assert after_rows == before_rows and result.rows == 0
    # Every page with a practitioner MUE answers the new release, in that section only.
    changed = {k for k in after if after[k] != before[k]}
    mue_pages = {k for k, secs in before_rows.items() if any(sid == "mue" for sid, _, _ in secs)}
    assert changed and changed <= mue_pages and ("cpt", "99213") in changed
    for k in changed:
        old, new = json.loads(before[k]), json.loads(after[k])
        assert [s for s in new if s["id"] != "mue"] == [s for s in old if s["id"] != "mue"]
        assert CORRECTED in next(s["html"] for s in new if s["id"] == "mue")
    changed_pages = {p for p in after_pages if after_pages[p] != before_pages.get(p)}
    assert changed_pages == {rel for rel in result.changed}
    # The code-number pages, and those that show the CPT release line: the home page and /cpt/.
    assert changed_pages and all(p.startswith("cpt/") or p == "index.html" for p in changed_pages)
    assert f"NCCI MUEs {CORRECTED}".encode() in after_pages["cpt/45378/index.html"]
    # The plain twin: a full build of the same inputs writes the same rows, answers and pages.
    twin = copy_project(built, tmp_path / "twin")
    assert build(twin, quiet=True, jobs=1, search=False, clean=True).mode == "clean"
    assert rows(twin) == after_rows
    assert answers(twin) == after
    assert pages(twin) == after_pages
    assert build(built, quiet=True, jobs=1, search=False).mode == "noop"
    facts = sqlite3.connect(built / "var" / "assistant.sqlite")
    assert dict(facts.execute("SELECT kind, release FROM sources"))["mue-practitioner"] == CORRECTED
    facts.close()


def test_a_page_that_gains_a_section_is_rendered_again_with_its_row(built: Path, tmp_path: Path) -> None:
    """A code that had no MUE gains one: its page (a placeholder more) and its store row are rewritten,
    as a full build of the same inputs writes them."""
    before_rows, before_pages = rows(built), pages(built)
    assert "mue" not in {sid for sid, _, _ in before_rows[("cpt", "45380")]}
    grown = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"
    grown.write_text(MUE.read_text() + "45380,1,3 Date of Service Edit: Clinical,Clinical: Data\n")
    import_premium(SiteConfig(root=built), "mue-practitioner", grown)
    result = build(built, quiet=True, jobs=1, search=False)
    assert result.mode == "premium" and result.rows == 1
    after_rows, after_pages = rows(built), pages(built)
    assert {k for k in after_rows if after_rows[k] != before_rows[k]} == {("cpt", "45380")}
    assert "mue" in [sid for sid, _, _ in after_rows[("cpt", "45380")]]
    changed_pages = {p for p in after_pages if after_pages[p] != before_pages.get(p)}
    assert "cpt/45380/index.html" in changed_pages and changed_pages == set(result.changed)
    assert b'data-section="mue"' in after_pages["cpt/45380/index.html"]
    mue = next(s for s in json.loads(answers(built)[("cpt", "45380")]) if s["id"] == "mue")
    assert "<td>1</td>" in mue["html"]
    twin = copy_project(built, tmp_path / "twin")
    assert build(twin, quiet=True, jobs=1, search=False, clean=True).mode == "clean"
    assert rows(twin) == after_rows and pages(twin) == after_pages and answers(twin) == answers(built)


def test_a_code_new_to_the_cms_data_takes_the_full_build(built: Path, tmp_path: Path) -> None:
    """99499 has no page yet: the CMS data gives it a code-number page."""
    grown = tmp_path / "MCR_MUE_PractitionerServices_Eff_07-01-2024.csv"
    grown.write_text(MUE.read_text() + "99499,1,3 Date of Service Edit: Clinical,Clinical: Data\n")
    import_premium(SiteConfig(root=built), "mue-practitioner", grown)
    assert build(built, quiet=True, jobs=1, search=False).mode == "full"


def test_the_modifier_file_takes_the_full_build(built: Path) -> None:
    import_premium(SiteConfig(root=built), "hcpcs-modifiers", CMS / "HCPC2024_JUL_ANWEB_sample.txt")
    assert build(built, quiet=True, jobs=1, search=False).mode == "full"  # modifier pages: not this path


def test_a_file_of_another_quarter_is_kept_beside_and_takes_the_full_build(
    built: Path, tmp_path: Path
) -> None:
    """Two quarters held: the history sections and /ncci/changes/ follow every change, so even a
    corrected file of the current quarter is left to the full build."""
    later = tmp_path / "MCR_MUE_PractitionerServices_Eff_10-01-2024.csv"
    later.write_text(MUE.read_text().replace("99213,2,3", "99213,3,3"))
    cfg = SiteConfig(root=built)
    assert "releases held: 2024-07-01, 2024-10-01" in import_premium(cfg, "mue-practitioner", later).note
    assert build(built, quiet=True, jobs=1, search=False).mode == "full"
    from generator.store_reader import StoreReader

    reader = StoreReader(built / "var" / "protected.sqlite")
    try:
        assert "ncci-mue-history" in {s.id for s in reader.sections("cpt", "99213")}
    finally:
        reader.close()
    later.write_text(MUE.read_text().replace("99213,2,3", "99213,4,3"))
    import_premium(cfg, "mue-practitioner", later, "2024-10-01 (corrected)")
    assert build(built, quiet=True, jobs=1, search=False).mode == "full"
