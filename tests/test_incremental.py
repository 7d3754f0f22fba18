"""The fast path of hand-written edits (generator/incremental.py) on a site with CMS data: the edited
pages are rendered alone, their new text is served (page, protected store, word index), and the site
and store are what a clean build of the same inputs writes (the fast path's plain twin)."""
from __future__ import annotations

import pickle
import sqlite3
from pathlib import Path

import pytest
from test_build import tree
from test_premium_files import SHIPPED_FIXTURES, ship
from test_premium_update import answers, rows

from generator.build import build
from generator.store_reader import StoreReader
from generator.words.reader import WordSearch


@pytest.fixture
def premium_site(tmp_path: Path) -> Path:
    """The sample project with the CMS fixtures shipped (premium sections on CPT and HCPCS pages),
    built with its search index."""
    from conftest import make_project

    root = make_project(tmp_path / "proj")
    ship(root, {k: v for k, v in SHIPPED_FIXTURES.items() if k != "hcpcs"})
    (root / "content" / "codes" / "cpt" / "99213.md").write_text(OFFICE_VISIT, encoding="utf-8")
    build(root, quiet=True, jobs=1)
    return root


# A hand-written page for a CPT code the CMS fixtures name (MUEs, RVUs and payment).
OFFICE_VISIT = """---
summary: An office visit of an established patient, low medical decision making
sections:
  common-language-description: {protected: false}
---
## Common language description

A follow-up visit in the office for a problem the physician already knows.

## Coding tips

- Choose the level by medical decision making or by total time on the date of the visit.
"""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer says {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_edited_pages_are_rendered_alone_with_their_new_text(premium_site: Path) -> None:
    root = premium_site
    codes = root / "content" / "codes"
    before = rows(root)
    premium = {("cpt", "99213"): ["mue", "rvu-payment"], ("hcpcs", "G0008"): ["rvu-payment"]}
    for page, ids in premium.items():
        assert [sid for sid, _, _ in before[page] if sid in ids] == ids
    edit(codes / "cpt" / "27252.md", "The physician puts the ball", "The physician gently puts the ball")
    edit(codes / "cpt" / "27252.md", "Report the anesthesia service", "Bill the anesthesia service")
    edit(codes / "cpt" / "99213.md", "problem the physician", "problem the attending physician")
    edit(codes / "hcpcs" / "G0008.md", "giving a flu shot", "giving a seasonal flu shot")

    cms_pages = sorted((root / ".coderef" / "cache").glob("cms-pages-*.pickle"))
    assert [p.name.split("-")[2] for p in cms_pages] == ["cpt", "hcpcs"]  # one per code set
    made = [p.stat().st_mtime_ns for p in cms_pages]
    result = build(root, quiet=True, jobs=1)

    assert result.mode == "pages" and result.pages == 3  # the fast path: nothing else was rendered
    # It read the CMS-made pages from the full build's cache (loading CPT and HCPCS alike).
    assert sorted((root / ".coderef" / "cache").glob("cms-pages-*.pickle")) == cms_pages
    assert [p.stat().st_mtime_ns for p in cms_pages] == made
    assert result.reindexed == ["cpt", "hcpcs"]  # public text changed: their word indexes
    site = root / "site"
    page = (site / "cpt" / "27252" / "index.html").read_text(encoding="utf-8")
    assert "The physician gently puts the ball" in page
    assert "Bill the anesthesia service" not in page  # a protected section: in the store only
    reader = StoreReader(root / "var" / "protected.sqlite")
    try:
        assert any("Bill the anesthesia service" in s.html for s in reader.sections("cpt", "27252"))
    finally:
        reader.close()
    assert "the attending physician" in (site / "cpt" / "99213" / "index.html").read_text(encoding="utf-8")
    assert "a seasonal flu shot" in (site / "hcpcs" / "G0008" / "index.html").read_text(encoding="utf-8")
    search = WordSearch(site)
    assert "27252" in [h.key for h in search.search("gently", codeset="cpt")]
    assert "99213" in [h.key for h in search.search("attending", codeset="cpt")]
    assert "G0008" in [h.key for h in search.search("seasonal", codeset="hcpcs")]

    # Another edit re-indexes CPT again: the hashes of the generation it replaces are forgotten.
    assert not _forgotten_files(root)
    edit(codes / "cpt" / "99213.md", "the attending physician", "the treating physician")
    assert build(root, quiet=True, jobs=1).mode == "pages"
    assert not _forgotten_files(root)

    # The pages keep their premium sections; all of it is what a clean build writes.
    after, fast_answers, fast_tree = rows(root), answers(root), tree(site)
    for page, ids in premium.items():
        assert [sid for sid, _, _ in after[page] if sid in ids] == ids
    assert build(root, quiet=True, jobs=1, clean=True).mode == "clean"
    assert rows(root) == after
    assert answers(root) == fast_answers
    assert tree(site) == fast_tree


def _forgotten_files(root: Path) -> list[str]:
    """The files the state database remembers a hash of that are gone (earlier index generations)."""
    db = sqlite3.connect(root / ".coderef" / "state.sqlite")
    try:
        return [p for (p,) in db.execute("SELECT path FROM file_hash") if not Path(p).exists()]
    finally:
        db.close()


def test_a_page_of_one_code_set_reads_the_cms_made_pages_the_full_build_cached(premium_site: Path) -> None:
    """The fast path of an HCPCS page loads HCPCS alone, of a CPT page CPT alone: each finds the CMS-made
    pages of its code set in the full build's cache, neither makes them again (a fifth of a second) nor
    drops the other's."""
    root = premium_site
    codes = root / "content" / "codes"
    cache = root / ".coderef" / "cache"
    before = {p.name: p.stat().st_mtime_ns for p in cache.glob("cms-pages-*.pickle")}
    assert len(before) == 2
    for path, old, new in (
        (codes / "hcpcs" / "G0008.md", "giving a flu shot", "giving a yearly flu shot"),
        (codes / "cpt" / "27252.md", "The physician puts the ball", "The physician gently puts the ball"),
        (codes / "hcpcs" / "G0008.md", "a yearly flu shot", "an annual flu shot"),
    ):
        edit(path, old, new)
        result = build(root, quiet=True, jobs=1)
        assert result.mode == "pages" and result.pages == 1
        assert {p.name: p.stat().st_mtime_ns for p in cache.glob("cms-pages-*.pickle")} == before


def test_the_cache_of_cms_made_pages_from_before_the_split_is_removed(premium_site: Path) -> None:
    """A project built before the CMS-made pages were cached per code set kept them in one
    `cms-pages-<hex>.pickle`, which no build reads: the first build that writes the new caches removes it."""
    root = premium_site
    cache = root / ".coderef" / "cache"
    for new in cache.glob("cms-pages-*.pickle"):
        new.unlink()
    legacy = cache / f"cms-pages-{'0' * 24}.pickle"
    legacy.write_bytes(pickle.dumps([]))
    edit(root / "content" / "codes" / "hcpcs" / "G0008.md", "giving a flu shot", "giving a yearly flu shot")
    assert build(root, quiet=True, jobs=1).mode == "pages"
    assert not legacy.exists()
    assert [p.name.split("-")[2] for p in cache.glob("cms-pages-*.pickle")] == ["hcpcs"]  # the fast path's
