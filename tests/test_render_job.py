"""The render stage's seam: a RenderJob rendered chunk by chunk, and its per-page callback."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_project
from markupsafe import Markup

from generator import render_job
from generator.build import build
from generator.fragments import AncestorCache, escape
from generator.inputs import load_inputs
from generator.link import link_models
from generator.load import load_models
from generator.model import CPT
from generator.render import page_context, site_context
from generator.render_job import RenderJob, render_chunk, render_pages
from generator.store import StoreRow
from generator.theme import Theme


def _job(root: Path, slot: Path, old: dict[str, str] | None = None) -> RenderJob:
    loaded = load_inputs(root)
    cfg = loaded.cfg
    models = link_models(load_models(cfg, loaded.pages, loaded.problems, quiet=True), loaded.problems)
    theme = Theme.load(cfg, site_context(cfg, models))
    return RenderJob(cfg, models, theme.record_template(), theme.context("/", cfg.site_name), slot, old or {})


def test_render_chunk_writes_pages_and_returns_rows_and_digests(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root: Path = project()
    job = _job(root, tmp_path / "slot")
    model = job.models["cpt"]
    chunk = [("cpt", i) for i in range(len(model.records))]
    result = render_chunk(job, chunk)
    assert set(result.files) == {f"cpt/{r.key}/index.html" for r in model.records}
    assert result.written == len(model.records)
    for rel in result.files:
        assert (tmp_path / "slot" / rel).read_text().startswith("<!doctype html>")
    codes = {r.key for r in model.records if r.is_code}
    assert {row[1] for row in result.rows} == codes and all(row[0] == "cpt" for row in result.rows)
    assert [(cs, i) for cs, i, _ in result.digests] == chunk
    # What the slot already holds is not written again.
    again = render_chunk(_job(root, tmp_path / "slot", old=result.files), chunk)
    assert again.files == result.files and again.written == 0


def test_render_pages_in_workers_equals_one_process(
    project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    root: Path = project()
    one = render_pages(_job(root, tmp_path / "one"), jobs=1, quiet=True)
    monkeypatch.setattr(render_job, "PARALLEL_FROM", 0)  # fork workers even for a small site
    monkeypatch.setattr(render_job, "CHUNK_SIZE", 7)  # and give them several chunks each
    two = render_pages(_job(root, tmp_path / "two"), jobs=2, quiet=True)
    assert two.files == one.files and two.search_digests == one.search_digests

    def unpacked(rows: list[StoreRow]) -> list[tuple[object, ...]]:  # each worker packs a text once
        return [(cs, key, title, [s[:3] for s in sections]) for cs, key, title, sections in rows]

    assert unpacked(two.rows) == unpacked(one.rows)
    assert two.written == one.written == len(one.files)


def test_on_page_is_called_once_per_record_page(project) -> None:  # type: ignore[no-untyped-def]
    root: Path = project()
    seen: list[str] = []
    result = build(root, quiet=True, jobs=1, on_page=seen.append)
    assert len(seen) == len(set(seen)) > 40
    pages = {rel for rel in seen if (root / "site" / rel).is_file()}
    assert pages == set(seen)
    assert len(seen) < result.pages  # not the special pages, the assets or the search files


def test_a_build_in_workers_equals_one_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parallel path (this process and a forked worker sharing the chunks, the site's other files
    and the data stages among them, the store rows streamed in) against the plain one."""
    import hashlib
    import os
    import sqlite3

    def tree(root: Path) -> dict[str, str]:
        site = (root / "site").resolve()
        return {
            os.path.relpath(os.path.join(d, f), site): hashlib.sha256(Path(d, f).read_bytes()).hexdigest()
            for d, _, fs in os.walk(site) for f in fs
        }

    def store(root: Path) -> list[tuple[object, ...]]:
        db = sqlite3.connect(root / "var" / "protected.sqlite")
        try:
            return list(db.execute(
                "SELECT c.codeset, c.key, c.title, l.position, l.id, l.title, b.hash FROM codes c"
                " LEFT JOIN lists l ON l.list = c.list LEFT JOIN blobs b ON b.id = l.blob"
                " ORDER BY c.codeset, c.key, l.position"
            )) + list(db.execute("SELECT * FROM free_pages ORDER BY 1, 2"))
        finally:
            db.close()

    one = make_project(tmp_path / "one")
    build(one, quiet=True, jobs=1, search=False)
    two = make_project(tmp_path / "two")
    monkeypatch.setattr(render_job, "PARALLEL_FROM", 0)
    monkeypatch.setattr(render_job, "CHUNK_SIZE", 7)
    result = build(two, quiet=True, jobs=2, search=False)
    assert tree(two) == tree(one) and result.pages == len(tree(one))
    assert store(two) == store(one)
    assert (two / "var" / "assistant.sqlite").exists() == (one / "var" / "assistant.sqlite").exists()


def test_record_files_holds_exactly_the_paths_render_chunk_writes(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root: Path = project()
    job = _job(root, tmp_path / "slot")
    chunk = [(cs, i) for cs, m in job.models.items() for i in range(len(m.records))]
    written = render_chunk(job, chunk).files
    paths = render_job.RecordFiles(job.models)
    assert written and all(rel in paths for rel in written)
    model = next(iter(job.models.values()))
    cs, key = model.codeset, model.records[0].key
    for other in (f"{cs}/index.html", f"{cs}/{key}/x/index.html", f"{cs}/{key}/index.htm", f"{cs}/{key}",
                  f"{cs}/{key}%20/index.html", f"nope/{key}/index.html", "index.html", ""):
        assert other not in paths and other not in written
    # A key that URLs quote is found by its quoted path only.
    model.index["a b"] = 0
    assert f"{cs}/a%20b/index.html" in paths and f"{cs}/a b/index.html" not in paths


def test_page_titles_from_the_cached_parts_equal_the_escaped_title(project, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`_page_title` joins the escaped code and title the cache holds; the frame prints it as is. It
    must be what the frame made of the plain title: escaped, narrowed."""
    root: Path = project()
    job = _job(root, tmp_path / "slot")
    checked = 0
    for cs, model in job.models.items():
        cache = AncestorCache(model)
        for i, rec in enumerate(model.records):
            page = page_context(job.cfg, model, i, cache)
            name = rec.title or rec.short_title
            plain = (
                f"{rec.display} \u2014 {name}" if name
                else f"{page['codeset_name']}\u00ae {rec.display}" if cs == CPT else rec.display
            )
            got = render_job._page_title(rec, cs, page, cache, i)
            assert (got if isinstance(got, Markup) else escape(got)) == escape(plain), (cs, rec.key)
            checked += 1
    assert checked > 40
