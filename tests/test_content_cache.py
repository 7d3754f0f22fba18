"""The parsed hand-written content kept between builds (generator/content_cache.py): read back instead of
parsed again, with the problems its parse reported, and never stale after an edit, whatever the edited
file's size and timestamp."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, make_project

from generator import content_cache
from generator.build import build
from generator.config import load_config
from generator.content import read_pages
from generator.errors import Problems
from generator.guides import read_guides
from generator.inputs import load_inputs
from generator.state import hand_hashes
from generator.words import synonyms


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj")
    shutil.copytree(ROOT / "content" / "guides", root / "content" / "guides")
    (root / synonyms.PATH).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / synonyms.PATH, root / synonyms.PATH)
    return root


def _fresh(root: Path) -> tuple[list[object], list[object], list[object], list[object]]:
    """What the readers make of the project now, without the cache: pages, guides, synonyms, problems."""
    problems = Problems()
    cfg = load_config(root, problems)
    pages = read_pages(cfg.content_dir, root, problems)
    syns = synonyms.load(root, problems)
    guides = read_guides(cfg.content_dir, root, problems)
    return list(pages), list(guides), list(syns), list(problems.items)


def _cached(root: Path) -> tuple[list[object], list[object], list[object], list[object]]:
    problems = Problems()
    cfg = load_config(root, problems)
    pages = content_cache.hand_pages(cfg, problems, hand_hashes(cfg.content_dir, root))
    syns = content_cache.synonym_list(cfg, problems)
    guides = content_cache.guides(cfg, problems)
    return list(pages), list(guides), list(syns), list(problems.items)


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("parsed again: the cache was not read")

    for name in ("read_pages", "read_guides"):
        monkeypatch.setattr(content_cache, name, refuse)
    monkeypatch.setattr(content_cache.synonyms, "load", refuse)


def test_the_second_read_comes_from_the_cache_and_equals_a_parse(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _cached(project)
    assert first == _fresh(project)
    assert [len(part) for part in first[:3]] == [4, 9, len(_fresh(project)[2])] and first[2]
    with monkeypatch.context() as m:
        _no_parsing(m)
        assert _cached(project) == first


def test_the_problems_of_a_parse_are_reported_again_from_the_cache(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = project / "content" / "codes"
    (codes / "cpt" / "9921.md").write_text("---\ntitle: x\n---\nA code number too short.\n", encoding="utf-8")
    (codes / "hcpcs" / "E0601.md").write_text("---\ntitle: [not, a, string]\n---\nBody\n", encoding="utf-8")
    (project / "content" / "guides" / "Bad Name.md").write_text("# A guide\n", encoding="utf-8")
    (project / synonyms.PATH).write_text("group:\n  uti: urinary tract infection\n  '': [empty key]\n")
    expected = _fresh(project)[3]
    assert len(expected) == 4 and all(not p.warning for p in expected)  # type: ignore[attr-defined]
    assert _cached(project)[3] == expected
    with monkeypatch.context() as m:
        _no_parsing(m)
        assert _cached(project)[3] == expected
        loaded = load_inputs(project)  # a build's inputs: the same problems, read from the cache
        assert loaded.problems.items == expected


@pytest.mark.parametrize(("relative", "old", "new"), [
    ("content/codes/cpt/27252.md", "dislocated hip back", "dislocated leg back"),
    ("content/guides/modifier-25.md", "significant and separately", "substantial separately"),
    (str(synonyms.PATH), "abd: abdomen", "abd: stomach"),
])
def test_an_edit_of_the_same_size_and_timestamp_is_read(
    project: Path, relative: str, old: str, new: str
) -> None:
    """The cache is keyed by content, not by the file's size and time: an edit that keeps both (a tool
    restoring timestamps, two edits within a clock tick) is still parsed."""
    first = _cached(project)
    path = project / relative
    text = path.read_text(encoding="utf-8")
    before = os.stat(path)
    edited = text.replace(old, new.ljust(len(old)), 1)
    assert edited != text and len(edited.encode()) == len(text.encode())
    path.write_text(edited, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = _cached(project)
    assert after == _fresh(project) and after != first


def test_a_page_added_or_removed_is_read(project: Path) -> None:
    _cached(project)
    page = project / "content" / "codes" / "cpt" / "99213.md"
    page.write_text("---\nsummary: An office visit\n---\nWhat the visit covers.\n", encoding="utf-8")
    after = _cached(project)
    assert after == _fresh(project) and "99213" in [p.key for p in after[0]]  # type: ignore[attr-defined]
    page.unlink()
    assert _cached(project) == _fresh(project)


def test_builds_read_the_cache_and_an_edited_page_is_served(project: Path) -> None:
    build(project, quiet=True, jobs=1, search=False)
    cache = project / ".coderef" / "cache"
    kinds = sorted(p.name.rsplit("-", 1)[0] for p in cache.glob("parsed-*.pickle"))
    assert kinds == ["parsed-guides", "parsed-pages", "parsed-synonyms"]
    page = project / "content" / "codes" / "cpt" / "27252.md"
    page.write_text(page.read_text(encoding="utf-8").replace(
        "The physician puts the ball", "The physician gently puts the ball"), encoding="utf-8")
    assert build(project, quiet=True, jobs=1, search=False).mode == "pages"
    served = (project / "site" / "cpt" / "27252" / "index.html").read_text(encoding="utf-8")
    assert "The physician gently puts the ball" in served
    assert len(list(cache.glob("parsed-pages-*.pickle"))) == 1  # the older version removed
