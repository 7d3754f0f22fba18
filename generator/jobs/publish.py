"""The jobs-only publish: when nothing but the listings (or the day) changed, only the board's files
are rendered, and those that differ replace the live ones through the publish journal — the same
atomic unit as the hand-written-pages fast path (`publish.Journal`). No code set is loaded."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from ..config import SiteConfig
from ..errors import ContentErrors
from ..progress import say
from ..publish import Journal, Slots, SlotWriter, digest
from ..result import BuildResult
from ..state import get_meta, set_meta
from ..theme import Theme
from . import pages, stage
from . import search as jobs_search

META = "jobs"  # state key: the fingerprint of the listings and day the live site shows
SEARCH_META = "jobs-search"  # ... and that its search bundle was made from


@dataclass(frozen=True)
class Published:
    files: int  # the board's files
    written: list[str]  # site paths replaced or added
    removed: list[str]  # site paths deleted (listings gone, samples switched off)


def live_paths(db: sqlite3.Connection) -> dict[str, str]:
    """The board's files in the live manifest (search bundle included), path -> hash."""
    out: dict[str, str] = {}
    for prefix in pages.PREFIXES:  # range scans of the manifest's b-tree, not all of its rows
        upper = prefix + "\U0010ffff"  # above every path starting with `prefix`
        rows = db.execute("SELECT path, hash FROM files WHERE path >= ? AND path < ?", (prefix, upper))
        out.update(rows)
    row = db.execute("SELECT path, hash FROM files WHERE path = ?", (pages.SITEMAP,)).fetchone()
    if row is not None:
        out[row[0]] = row[1]
    return out


def is_current(db: sqlite3.Connection, cfg: SiteConfig, search: bool) -> bool:
    """Whether the live board (and its search bundle, when `search`) shows today's listings."""
    fp = stage.fingerprint(cfg, stage.today())
    return get_meta(db, META) == fp and (not search or get_meta(db, SEARCH_META) == fp)


def state(fingerprint: str, search: bool) -> dict[str, str]:
    """The state a build that published the board from `fingerprint` records."""
    return {META: fingerprint, **({SEARCH_META: fingerprint} if search else {})}


def publish(
    cfg: SiteConfig, db: sqlite3.Connection, slots: Slots, *, search: bool = True
) -> Published | None:
    """Re-renders the board (and, with `search`, its search bundle) into the live slot; None when there
    is no live site to update (the caller builds in full). Listing errors stop it before anything is
    written."""
    site_json = get_meta(db, "site")
    live = slots.active()
    if site_json is None or live is None:
        return None
    board = stage.listings(cfg)
    if board.problems.errors:
        raise ContentErrors(board.problems)
    theme = Theme.load(cfg, json.loads(site_json))
    outputs = pages.board_files(theme, board.jobs, board.day)
    old = live_paths(db)
    if not search:  # the bundle stays as it is (SEARCH_META says it is stale)
        old = {p: h for p, h in old.items() if not jobs_search.is_search_output(p)}
    journal = Journal(cfg.state_dir, db)
    writer = SlotWriter(journal.stage(), old)
    for rel, data in outputs:
        writer.write(rel, data)
    if search:
        for rel, src in jobs_search.bundle(cfg, board):
            writer.link(rel, src, digest(src.read_bytes()))
    moves = [(rel, rel) for rel, h in sorted(writer.new.items()) if old.get(rel) != h]
    deletes = sorted(old.keys() - writer.new.keys())
    journal.commit(slots, live, moves, deletes, {rel: writer.new[rel] for _, rel in moves})
    db.execute("BEGIN")
    for key, value in state(board.fingerprint, search).items():
        set_meta(db, key, value)
    db.execute("COMMIT")
    return Published(len(outputs), [rel for _, rel in moves], deletes)


def after(
    cfg: SiteConfig, db: sqlite3.Connection, slots: Slots, before: BuildResult, *, quiet: bool, search: bool
) -> BuildResult | None:
    """The jobs-only publish after `before` (nothing, or the fast path of hand-written pages) as one
    build's result. None when there is no live site to update."""
    done = publish(cfg, db, slots, search=search)
    if done is None:
        return None
    say(f"jobs       {done.files} board files, {len(done.written)} replaced, {len(done.removed)} removed",
        quiet=quiet)
    return BuildResult(
        "jobs" if before.mode == "noop" else f"{before.mode}+jobs", pages=before.pages + done.files,
        written=before.written + len(done.written), removed=before.removed + len(done.removed),
        reindexed=before.reindexed, problems=before.problems, changed=[*done.written, *done.removed],
    )
