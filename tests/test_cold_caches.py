"""The caches a cold build fills in a forked child while it loads: made from their files alone, the
stages read exactly what they would have parsed, and a changed file is parsed again."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import BOOK_FIXTURES, DATA, make_project

from generator import cold_caches, reference
from generator.book_sections import attach_books
from generator.history import history_caches
from generator.history import previous as previous_mod
from generator.history.previous import previous_releases
from generator.inputs import load_inputs
from generator.link import link_models
from generator.load import load_models
from generator.model import ICD10CM
from generator.pickle_cache import older


def _project(tmp_path: Path, fy2025: Path) -> Path:
    site_yml = (
        "site_name: coderef test\nbase_url: https://codes.example.org\ncodesets: [icd-10-cm, icd-10-pcs]\n"
        f"sources:\n  icd10cm: {DATA / 'icd10cm-sample.xml'}\n  icd10pcs: {DATA / 'icd10pcs-sample.txt'}\n"
        f"  icd10cm-fy2025: {fy2025}\n"
        + "".join(f"  {kind}: {DATA / 'books' / name}\n" for kind, name in BOOK_FIXTURES.items())
    )
    return make_project(tmp_path / "proj", site_yml=site_yml, pages=False, jobs=False)


def _pages(root: Path, *, cold: bool) -> dict[tuple[str, str], object]:
    """Every page's sections and facts after the load (history) and books stages, with the child."""
    loaded = load_inputs(root)
    children = cold_caches.ColdCaches(loaded.cfg, 2) if cold else None
    if children is not None:  # the index's books in one child, history and the PCS books in the other
        assert children.started == ["cold-cm", "cold"]
    models = link_models(load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True), loaded.problems)
    if children is not None:
        children.books_ready()
    attach_books(loaded.cfg, models, quiet=True)
    return {(cs, r.key): (list(r.facts), [(s.id, s.html) for s in r.sections], r.change)
            for cs, m in models.items() for r in m.records}


def test_the_child_fills_what_the_stages_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reference, "_LOADED", {})  # the books of tests/data, loaded by an earlier test
    previous_mod._read.cache_clear()
    fy2025 = tmp_path / "icd10cm_fy2025.tsv"
    shutil.copy(DATA / "icd10cm_fy2025_sample.tsv", fy2025)
    root = _project(tmp_path, fy2025)
    cfg = load_inputs(root).cfg
    assert history_caches(cfg) and not any(p.exists() for p in history_caches(cfg))
    cold = _pages(root, cold=True)
    assert all(p.exists() for p in history_caches(cfg))
    assert cold_caches.ColdCaches(cfg, 2).started == []  # all filled: no child
    # The same project without any cache, made in this process: the same pages.
    shutil.rmtree(cfg.state_dir)
    previous_mod._read.cache_clear()
    monkeypatch.setattr(reference, "_LOADED", {})
    assert _pages(root, cold=False) == cold
    assert any(change == "new" for _, _, change in cold.values())  # history was compared


def test_a_changed_earlier_release_is_read_again(tmp_path: Path) -> None:
    previous_mod._read.cache_clear()
    fy2025 = tmp_path / "icd10cm_fy2025.tsv"
    shutil.copy(DATA / "icd10cm_fy2025_sample.tsv", fy2025)
    cfg = load_inputs(_project(tmp_path, fy2025)).cfg
    (first,) = previous_releases(cfg, ICD10CM)
    (cache,) = older(cfg.state_dir / "cache", f"{ICD10CM}-earlier")
    fy2025.write_text(fy2025.read_text().replace("without complication\n", "without complications\n"))
    (second,) = previous_releases(cfg, ICD10CM)
    assert [p.name for p in older(cfg.state_dir / "cache", f"{ICD10CM}-earlier")] != [cache.name]
    assert first.codes != second.codes
    assert any(h.title.endswith("without complications") for h in second.codes.values())
    previous_mod._read.cache_clear()  # a new process: read from the pickle
    (again,) = previous_releases(cfg, ICD10CM)
    assert again.codes == second.codes and again.release == second.release


def test_the_lists_child_fills_the_cache_the_lists_stage_reads(tmp_path: Path) -> None:
    from cms_fixtures import import_all

    from generator.config import SiteConfig
    from generator.premium.lists import COVERED_KIND, SectionLists, covered_cached, covered_in, premium_files

    root = make_project(tmp_path / "proj", pages=False, jobs=False)
    import_all(SiteConfig(root=root))
    cfg = load_inputs(root).cfg
    assert not covered_cached(cfg)
    cold = cold_caches.ColdCaches(cfg, 2)
    cold.converted()
    cold.lists_ready()
    assert covered_cached(cfg)
    (cache,) = older(cfg.state_dir / "cache", COVERED_KIND)
    made = cache.stat().st_mtime_ns
    files = premium_files(cfg)
    with SectionLists(cfg, files, {}) as lists:
        assert lists.covered == covered_in(files, None) and lists.covered
    assert cache.stat().st_mtime_ns == made  # read, not made again
    again = cold_caches.ColdCaches(cfg, 2)
    again.converted()  # cached: no child
    assert again._lists is None
