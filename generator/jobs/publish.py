"""The jobs-only publish: when nothing but the listings (or the day) changed, only the board's files
are rendered, and those that differ replace the live ones through the publish journal — the same
atomic unit as the hand-written-pages fast path (`publish.Journal`). No code set is loaded."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass

from ..config import SiteConfig
from ..errors import ContentErrors, Problems
from ..pages import common
from ..publish import Journal, Slots, SlotWriter, digest
from ..render import build_assets, make_env, to_ctx
from ..state import get_meta, set_meta
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
    rows = db.execute(
        "SELECT path, hash FROM files WHERE (path >= 'jobs/' AND path < 'jobs0')"
        " OR (path >= 'pagefind/jobs/' AND path < 'pagefind/jobs0') OR path = ?",
        (pages.SITEMAP,),
    )
    return {p: h for p, h in rows if pages.is_job_output(p)}


def is_current(db: sqlite3.Connection, fp: str, search: bool) -> bool:
    """Whether the live board (and its search bundle, when `search`) was made from `fp`."""
    return get_meta(db, META) == fp and (not search or get_meta(db, SEARCH_META) == fp)


def publish(
    cfg: SiteConfig,
    problems: Problems,
    db: sqlite3.Connection,
    slots: Slots,
    fp: str,
    day: dt.date,
    *,
    search: bool = True,
) -> Published | None:
    """Re-renders the board (and, with `search`, its search bundle) into the live slot; None when there
    is no live site to update (the caller builds in full). Listing errors stop it before anything is
    written."""
    site_json = get_meta(db, "site")
    live = slots.active()
    if site_json is None or live is None:
        return None
    jobs = stage.read(cfg, problems)
    if problems.errors:
        raise ContentErrors(problems)
    env = make_env(cfg.theme_dir, cfg.state_dir / "cache" / "jinja")
    base = common(cfg, to_ctx(json.loads(site_json)), build_assets(cfg.theme_dir), "/", cfg.site_name, env)
    outputs = pages.outputs(cfg, env, base, jobs, day)
    old = live_paths(db)
    if not search:  # the bundle stays as it is (SEARCH_META says it is stale)
        old = {p: h for p, h in old.items() if not jobs_search.is_search_output(p)}
    journal = Journal(cfg.state_dir, db)
    writer = SlotWriter(journal.stage(), old)
    for rel, data in outputs:
        writer.write(rel, data)
    if search and cfg.jobs.enabled:
        for rel, src in jobs_search.index(pages.listed(cfg, jobs), day, cfg.state_dir / "search" / "jobs"):
            writer.link(rel, src, digest(src.read_bytes()))
    moves = [(rel, rel) for rel, h in sorted(writer.new.items()) if old.get(rel) != h]
    deletes = sorted(old.keys() - writer.new.keys())
    journal.commit(slots, live, moves, deletes, {rel: writer.new[rel] for _, rel in moves})
    db.execute("BEGIN")
    set_meta(db, META, fp)
    if search:
        set_meta(db, SEARCH_META, fp)
    db.execute("COMMIT")
    return Published(len(outputs), [rel for _, rel in moves], deletes)
