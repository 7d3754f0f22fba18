"""The fast path: only hand-written pages changed, so only their pages are rendered again.

Taken when code, theme, config and imported data are unchanged and no page was added or removed,
and when what other pages show of each changed page (its identity: title, parent, order…) is the
same. Anything else falls back to the full build, which is always correct.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from . import urls
from .build import (
    _JOB,
    BuildResult,
    Loaded,
    _file_hashes,
    _render_chunk,
    hand_identities,
    index_search,
    load_models,
    record_identity,
)
from .errors import ContentErrors
from .pages import common
from .publish import Journal, Slots, SlotWriter
from .render import build_assets, make_env
from .state import get_meta
from .store import StoreWriter


def build_pages(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, stored_hand: dict[str, str], *, quiet: bool,
    search: bool = True,
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
    if problems.errors:
        raise ContentErrors(problems)
    stored = {p: (ident, public) for p, ident, public in db.execute("SELECT path, ident, public FROM hand")}
    new = hand_identities(models, pages, cfg)
    for pg in pages:
        model = models[pg.codeset]
        old_identity = stored.get(pg.path, ("", ""))[0]
        if pg.path not in new or old_identity != record_identity(model, model.index[pg.key]):
            return None
    reindex = {pg.codeset for pg in pages if stored[pg.path][1] != new[pg.path][1]} if search else set()

    site = json.loads(site_json)
    env = make_env(cfg.theme_dir)
    assets = build_assets(cfg.theme_dir)
    base = common(cfg, site, assets, "/", cfg.site_name, env)
    chunk = [(pg.codeset, models[pg.codeset].index[pg.key]) for pg in pages]
    paths = [urls.file_for(urls.page_path(pg.codeset, pg.key)) for pg in pages]
    search_files = index_search(cfg, {cs: models[cs] for cs in reindex}, reindex, quiet) if reindex else None
    old_search: set[str] = set()
    new_search: list[tuple[str, Path, str]] = []
    if search_files is not None:
        for cs in reindex:
            # Files shared by all code sets (e.g. the list of code sets with their counts) cannot
            # change here: no page was added or removed. Only this code set's own files move.
            own = f"/{cs}/"
            old_search |= {
                r[0]
                for r in db.execute("SELECT path FROM search_files WHERE codeset=?", (cs,))
                if own in r[0]
            }
            new_search.extend(_file_hashes(db, [f for f in search_files.get(cs, []) if own in f[0]]))
    touched = sorted(set(paths) | old_search | {rel for rel, _, _ in new_search})
    live_hashes = {
        p: h
        for p, h in db.execute(
            f"SELECT path, hash FROM files WHERE path IN ({','.join('?' * len(touched))})", touched
        )
    }
    journal = Journal(cfg.state_dir, db)
    staging = journal.stage()
    _JOB.update(
        cfg=cfg, models=models, template=env.get_template("page.html"), base=base, slot_dir=staging,
        old=live_hashes, digests=False,  # search digests of these pages are taken by hand_identities
    )
    try:
        manifest, written, rows, _ = _render_chunk(chunk)
    finally:
        _JOB.clear()
    writer = SlotWriter(staging, live_hashes)
    for rel, src, h in new_search:
        writer.link(rel, src, h)
    manifest.update(writer.new)
    written += writer.written
    moves = [(rel, rel) for rel, h in sorted(manifest.items()) if live_hashes.get(rel) != h]
    deletes = sorted(old_search - manifest.keys())
    store = StoreWriter(cfg.store_path, fresh=False)
    try:
        for codeset, key, title, sections in rows:
            store.replace_packed(codeset, key, title, sections)
        store.commit()
    except BaseException:
        store.abort()
        raise
    journal.commit(slots, live, moves, deletes, {rel: manifest[rel] for _, rel in moves})
    db.execute("BEGIN")
    for pg in pages:
        db.execute(
            "INSERT OR REPLACE INTO hand VALUES (?, ?, ?, ?)", (pg.path, loaded.hand[pg.path], *new[pg.path])
        )
    for cs in reindex:
        db.execute("INSERT OR REPLACE INTO search VALUES (?, '')", (cs,))
        if search_files is not None:
            db.execute("DELETE FROM search_files WHERE codeset=?", (cs,))
            db.executemany(
                "INSERT INTO search_files VALUES (?, ?)", [(cs, rel) for rel, _ in search_files.get(cs, [])]
            )
    db.execute("COMMIT")
    return BuildResult(
        "pages", pages=len(paths), written=len(moves), removed=len(deletes), reindexed=sorted(reindex),
        problems=problems,
    )
