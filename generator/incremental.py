"""The fast path: only hand-written pages changed, so only their pages are rendered again.

Taken when code, theme, config and imported data are unchanged and no page was added or removed,
and when what other pages show of each changed page (its identity: title, parent, order…) is the
same. Anything else falls back to the full build, which is always correct. The new files replace
the live ones through a journal (`publish.Journal`); the store rows of the pages are replaced in
place.

An operator waits for it after each edit, so it reads only what the edited pages need: their code
sets, their codes looked up in the CMS files (`premium.lists.SectionLists(only=...)`), the CMS-made
pages from their cache (`load._cms_pages`), and for search only the books of the code sets it
re-indexes. tests/test_incremental.py compares its output with a clean build's.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from . import urls
from .book_sections import attach_books
from .identity import hand_identities, record_identity
from .inputs import Loaded, validate
from .link import link_models
from .load import load_models
from .publish import Journal, Slots, SlotWriter
from .render_job import RenderJob, render_chunk
from .result import BuildResult
from .search_stage import file_hashes, forget_hashes, index_edits
from .state import SEARCH_META, SEARCH_MISSING, get_meta, hand_records, record_build, search_file_paths
from .store_job import replace_rows
from .theme import Theme


def build_pages(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, stored_hand: dict[str, str], *, quiet: bool,
    search: bool = True, on_page: Callable[[str], None] | None = None,
) -> BuildResult | None:
    """Re-renders the changed hand-written pages; None means "do a full build instead"."""
    cfg, problems = loaded.cfg, loaded.problems
    changed = {p for p, h in loaded.hand.items() if stored_hand.get(p) != h}
    pages = [pg for pg in loaded.pages if pg.path in changed]
    site_json = get_meta(db, "site")
    live = slots.active()
    if len(pages) != len(changed) or site_json is None or live is None:
        return None
    keys = {(pg.codeset, pg.key) for pg in pages}
    models = load_models(
        cfg, loaded.pages, problems, only={pg.codeset for pg in pages}, quiet=True, premium_keys=keys
    )
    models = link_models(models, problems, quiet=True)
    attach_books(cfg, models, quiet=True)
    validate(problems)
    stored = {path: (ident, public) for path, (_, ident, public) in hand_records(db).items()}
    new = hand_identities(models, pages, cfg)
    for pg in pages:
        model = models[pg.codeset]
        old_identity = stored.get(pg.path, ("", ""))[0]
        if pg.path not in new or old_identity != record_identity(model, model.index[pg.key]):
            return None
    # The code sets whose searchable text changed.
    public = {pg.codeset for pg in pages if stored[pg.path][1] != new[pg.path][1]}
    reindex = public if search else set()

    theme = Theme.load(cfg, json.loads(site_json))
    chunk = [(pg.codeset, models[pg.codeset].index[pg.key]) for pg in pages]
    paths = [urls.file_for(urls.page_path(pg.codeset, pg.key)) for pg in pages]
    search_files = None
    spliced: list[str] = []
    if reindex:
        edited = {cs: {pg.key for pg in pages if pg.codeset == cs} for cs in reindex}
        search_files, spliced = index_edits(
            cfg, {cs: models[cs] for cs in reindex}, edited, hand=[(p.codeset, p.key) for p in loaded.pages],
            quiet=quiet,
        )
        forget_hashes(db, cfg, search_files)
    old_search: set[str] = set()
    new_search: list[tuple[str, Path, str]] = []
    if search_files is not None:
        for cs in reindex:
            # Files shared by all code sets (e.g. the list of code sets with their counts) cannot
            # change here: no page was added or removed. Only this code set's own files move.
            own = urls.codeset_path(cs)
            old_search |= {rel for rel in search_file_paths(db, cs) if own in rel}
            new_search.extend(file_hashes(db, [f for f in search_files.get(cs, []) if own in f[0]]))
    live_hashes = slots.hashes(set(paths) | old_search | {rel for rel, _, _ in new_search})
    journal = Journal(cfg.state_dir, db)
    staging = journal.stage()
    job = RenderJob(
        cfg, models, theme.record_template(), theme.context("/", cfg.site_name), staging, live_hashes,
        digests=False,  # search digests of these pages are taken by hand_identities
        on_page=on_page,
    )
    rendered = render_chunk(job, chunk)
    writer = SlotWriter(staging, live_hashes, taken=rendered.files)
    for rel, src, h in new_search:
        writer.link(rel, src, h)
    files = {**rendered.files, **writer.new}
    moves = [(rel, rel) for rel, h in sorted(files.items()) if live_hashes.get(rel) != h]
    deletes = sorted(old_search - files.keys())
    replace_rows(cfg.store_path, rendered.rows)
    journal.commit(slots, live, moves, deletes, {rel: files[rel] for _, rel in moves})
    record_build(
        db, complete=False, hand=[(pg.path, loaded.hand[pg.path], *new[pg.path]) for pg in pages],
        meta={SEARCH_META: SEARCH_MISSING} if public and not search else None,  # the index no longer follows
        search=dict.fromkeys(reindex, ""),  # unknown: the next full build re-indexes them
        search_files={cs: [rel for rel, _ in search_files.get(cs, [])] for cs in reindex}
        if search_files is not None else None,
    )
    return BuildResult(
        "pages", pages=len(paths), written=len(moves), removed=len(deletes), reindexed=sorted(reindex),
        spliced=spliced,
        problems=problems,
    )
