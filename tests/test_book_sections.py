"""The books stage: what the reference books add to pages, made from the books alone and cached per
code set; the cached additions give the pages exactly what the plain stage gives, and a changed book
(or code) makes them again."""
from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from generator import book_sections, reference
from generator.book_sections import attach, attach_books
from generator.cold_caches import ColdCaches
from generator.config import SiteConfig
from generator.errors import BuildError
from generator.history import history_caches
from generator.inputs import load_inputs
from generator.link import CodeSetModel, link_models
from generator.load import load_models
from generator.model import ICD10CM, ICD10PCS
from generator.pickle_cache import older
from generator.reference import Books, References, load_books


def _models(root: Path) -> tuple[SiteConfig, dict[str, CodeSetModel]]:
    loaded = load_inputs(root)
    models = load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True)
    return loaded.cfg, link_models(models, loaded.problems, quiet=True)


def _pages(models: dict[str, CodeSetModel]) -> dict[tuple[str, str], object]:
    return {(cs, r.key): (list(r.facts), [(s.id, s.html, s.text) for s in r.sections])
            for cs, m in models.items() for r in m.records}


def _caches(cfg: SiteConfig, codeset: str) -> list[Path]:
    return older(cfg.state_dir / "cache", f"books-{codeset}")


def test_the_cached_additions_give_what_the_plain_stage_gives(project: Callable[..., Path]) -> None:
    root = project()
    cfg, plain = _models(root)
    attach(plain, References(load_books(cfg)))  # made now, no cache
    for _ in range(2):  # the first makes the caches, the second reads them
        cfg, models = _models(root)
        attach_books(cfg, models, quiet=True)
        assert _pages(models) == _pages(plain)
    assert len(_caches(cfg, ICD10CM)) == len(_caches(cfg, ICD10PCS)) == 1
    added = [r for r in models[ICD10CM].records if any(s.id == "index-entries" for s in r.sections)]
    assert added and all(r.is_code for r in added)  # on code pages only
    assert any(s.id == "pcs-table" for r in models[ICD10PCS].records for s in r.sections)


def test_a_changed_book_makes_its_code_sets_additions_again(project: Callable[..., Path]) -> None:
    root = project()
    cfg, models = _models(root)
    attach_books(cfg, models, quiet=True)
    cm, pcs = _caches(cfg, ICD10CM), _caches(cfg, ICD10PCS)
    src = Path(next(v for k, v in cfg.sources.items() if k == "icd10cm-index"))
    copy = root / "index.xml"
    copy.write_text(src.read_text().replace("<title>type 2</title>", "<title>type II</title>", 1))
    assert copy.read_text() != src.read_text()
    yml = root / "content" / "site.yml"
    yml.write_text(yml.read_text().replace(str(src), str(copy)))
    cfg, models = _models(root)
    attach_books(cfg, models, quiet=True)
    assert _caches(cfg, ICD10CM) != cm and len(_caches(cfg, ICD10CM)) == 1  # made again, the old one gone
    assert _caches(cfg, ICD10PCS) == pcs  # the PCS books did not change
    assert any("type II" in s.text for r in models[ICD10CM].records for s in r.sections
               if s.id == "index-entries")
    # The same file touched (another identity) is read again too.
    before = _caches(cfg, ICD10CM)
    os.utime(copy, ns=(copy.stat().st_atime_ns, copy.stat().st_mtime_ns + 10**9))
    cfg, models = _models(root)
    attach_books(cfg, models, quiet=True)
    assert _caches(cfg, ICD10CM) != before


def test_a_child_makes_the_additions_while_the_build_loads(
    project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reference, "_LOADED", {})  # the books of tests/data, loaded by an earlier test
    root = project()
    cfg = load_inputs(root).cfg
    children = ColdCaches(cfg, 2)
    assert children.started == ["cold-cm", "cold"]
    cfg, models = _models(root)
    children.books_ready()
    attach_books(cfg, models, quiet=True)
    assert len(_caches(cfg, ICD10CM)) == len(_caches(cfg, ICD10PCS)) == 1
    assert older(cfg.state_dir / "cache", "icd10cm-index")  # the books' parse caches, written by the child
    assert all(p.exists() for p in history_caches(cfg))  # and the earlier releases'
    assert ColdCaches(cfg, 2).started == []  # all cached: no child


def test_a_malformed_book_read_by_the_child_stops_the_build_with_its_line(
    project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reference, "_LOADED", {})
    root = project()
    cfg = load_inputs(root).cfg
    src = Path(cfg.sources["icd10cm-index"])
    bad = root / "broken_index.xml"
    bad.write_text(src.read_text().replace("<title>Arthropathy</title>", "<title>Arthropathy</titl>", 1))
    yml = root / "content" / "site.yml"
    yml.write_text(yml.read_text().replace(str(src), str(bad)))
    cfg, _ = _models(root)
    children = ColdCaches(cfg, 2)
    assert "cold-cm" in children.started
    # The child failed; the work is redone here, where the error is raised with the file and line.
    with pytest.raises(BuildError, match=rf"{bad}:11: not a readable"):
        children.books_ready()
    assert not _caches(cfg, ICD10CM)


def test_no_books_no_additions(project: Callable[..., Path]) -> None:
    root = project()
    yml = root / "content" / "site.yml"
    yml.write_text("".join(line for line in yml.read_text().splitlines(keepends=True) if "books" not in line))
    cfg, models = _models(root)
    assert not cfg.sources.keys() & {"icd10cm-index", "icd10pcs-tables"}
    assert book_sections.missing(cfg) == []
    before = _pages(models)
    attach_books(cfg, models, quiet=True)
    assert _pages(models) == before
    assert book_sections.made(ICD10CM, References(Books())) == {}
