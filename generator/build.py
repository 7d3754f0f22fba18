"""The build, as a table of contents: load → validate → link → render → write → store → index → publish.

`build()` takes one of three paths. When nothing changed, it stops after fingerprinting its
inputs. When only hand-written pages changed, the fast path (`incremental.py`) re-renders just
those. Otherwise `full_build()` runs every stage: each is a function of the model in a module
named for its role, and this module only calls them in order. Pages are written into the standby
slot (only files whose bytes changed); nothing is visible until the commit point, where the
protected store (and any data beside it) is renamed into place and then the `site` link swapped
to the new slot (`publish.py`). A failed or killed build leaves the previous site and store.

How to add a stage
------------------
* **A new kind of page** (index pages, tables, job listings, release history…): a module of its
  own with one function `(theme: Theme, models) -> Iterable[(site file path, bytes)]`, added to
  `SITE_STAGES`. Render with `theme.page(template, url_path, title, **variables)` and take every
  path from `urls.py`. The writer refuses a path that a record page or another stage already
  wrote, writes only files whose bytes changed, and `_headers` gives each new top-level folder the
  HTML cache policy (`cache_policy.py`). These pages are public: never put protected text in them.
* **Data beside the protected store** (the assistant's facts, release history…), read by the gate:
  a function `(cfg, models, jobs) -> Pending` added to `DATA_STAGES`. It writes a fresh file next
  to the live one (never the live one, which the gate is reading) and returns an object whose
  `commit()` renames it into place (called at the commit point, after the protected store and
  before the site swap) and whose `abort()` removes the unfinished file (the build failed).
  `assistant_facts.FactsJob` is the model. One writer in generator/, one reader in gate/.
* Site and data stages run among the render tasks (`render_job.Side`), maybe in a forked worker:
  they only read the model, and a data stage's `Pending` may come back by pickle (keep it small).
* Both run in full builds. The fast path of hand-written edits (`incremental.py`) re-renders only
  them; a stage whose output depends on their text updates there too (or returns None: full build).
"""
from __future__ import annotations

import functools
import gc
import json
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from . import cold_caches, index_pages, pages, sitemaps, snapshots, state
from .assistant_facts import facts_stage
from .book_sections import attach_books
from .casepilot_pages import casepilot_pages
from .config import SiteConfig
from .free import free_pages
from .history.pages import history_pages
from .identity import hand_identities
from .incremental import build_pages
from .inputs import Loaded, load_inputs, validate
from .jobs import publish as jobs_publish
from .jobs import stage as jobs_stage
from .link import CodeSetModel, link_models
from .load import load_models, wait_for_cache_writes
from .premium import code_pages
from .premium.lists import SectionLists, linked_pages, premium_snapshot
from .premium_update import premium_state, update_premium
from .progress import phase, say
from .publish import Slots, SlotWriter
from .render import site_context
from .render_job import RenderJob, Side, render_pages
from .result import BuildResult
from .search_stage import Indexed, SearchAhead, publish_search, search_stage
from .site_files import SiteFiles, SiteStage, write_site_files_in
from .state import build_lock, get_meta, global_fingerprint, hand_records, open_state, record_build
from .store_job import StoreJob
from .theme import Theme, asset_files

Models = dict[str, CodeSetModel]


class Pending(Protocol):
    """Output written beside the live one, made live (or discarded) at the build's commit point."""

    def commit(self) -> None: ...

    def abort(self) -> None: ...


DataStage = Callable[[SiteConfig, Models, int], Pending]

# The write stage: files of the site beside the record pages, in this order (see the docstring).
SITE_STAGES: tuple[SiteStage, ...] = (
    pages.special_pages, index_pages.book_pages, casepilot_pages, history_pages, sitemaps.robots_txt,
    sitemaps.sitemaps, jobs_stage.site_files, asset_files,
)
# Data files beside the protected store, committed with it (see the docstring).
DATA_STAGES: tuple[DataStage, ...] = (facts_stage,)  # CasePilot's facts (var/assistant.sqlite)


def build(
    root: Path, *, clean: bool = False, jobs: int | None = None, quiet: bool = False, strict: bool = False,
    search: bool = True, on_page: Callable[[str], None] | None = None,
) -> BuildResult:
    """Builds the site below `root` into `site/` and the protected store; see the module docstring.

    `on_page` is called with each record page's site path once it is written (in the process
    that renders it; see `render_job.RenderJob`).
    """
    t0 = time.perf_counter()
    # The build allocates millions of small objects and frees almost none of them before it
    # ends: the cyclic GC only costs time here (3x on unpickling the parsed code sets).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        loaded = load_inputs(root)
        validate(loaded.problems, strict=strict)
        jobs = jobs or min(os.cpu_count() or 1, 8)
        with build_lock(loaded.cfg.state_dir, quiet=quiet):
            result = _locked_build(
                loaded, clean=clean, jobs=jobs, quiet=quiet, search=search, on_page=on_page
            )
        result.seconds = time.perf_counter() - t0
    finally:
        wait_for_cache_writes()
        if gc_was_enabled:
            gc.enable()
    if result.mode == "noop":
        say(f"build      nothing changed ({result.seconds:.2f}s)", quiet=quiet)
    elif result.mode == "pages":
        say(f"build      {result.written} files changed ({result.seconds:.2f}s)", quiet=quiet)
    else:
        say(
            f"build      {result.pages} pages, {result.written} files written, {result.removed} removed "
            f"in {result.seconds:.2f}s",
            quiet=quiet,
        )
    return result


def _locked_build(
    loaded: Loaded, *, clean: bool, jobs: int, quiet: bool, search: bool,
    on_page: Callable[[str], None] | None,
) -> BuildResult:
    """Chooses the path: nothing to do, the fast path of hand-written edits, or a full build."""
    cfg = loaded.cfg
    db = open_state(cfg.state_dir)
    try:
        slots = Slots(cfg.state_dir, cfg.output_dir, db)
        gfp = global_fingerprint(cfg)
        active = slots.active()
        if active is not None and not (cfg.output_dir / "index.html").exists():
            # Someone emptied the live slot through the link: forget what it held.
            slots.forget(active)
        up_to_date = (
            not clean and active is not None and cfg.store_path.exists() and get_meta(db, "global") == gfp
            and slots.has_manifest() and (cfg.output_dir / "index.html").exists()
            and (not search or state.search_follows(db))  # else: word indexes missing or stale
        )
        if up_to_date and get_meta(db, "premium") != premium_state(cfg):
            up_to_date = False  # CMS files changed: their fast path (premium_update.py), else a full build
            fast_premium = update_premium(loaded, db, slots, search=search, quiet=quiet, on_page=on_page)
            if fast_premium is not None:
                return fast_premium
        if up_to_date:
            stored = {path: rec[0] for path, rec in hand_records(db).items()}
            board_current = jobs_publish.is_current(db, cfg, search)
            if stored == loaded.hand and board_current:
                return BuildResult("noop", problems=loaded.problems)
            fast: BuildResult | None = BuildResult("noop", problems=loaded.problems)
            if stored != loaded.hand:
                fast = None
                if stored.keys() == loaded.hand.keys():
                    fast = build_pages(loaded, db, slots, stored, quiet=quiet, search=search, on_page=on_page)
            if fast is not None and not board_current:
                fast = jobs_publish.after(cfg, db, slots, fast, quiet=quiet, search=search)  # the board alone
            if fast is not None:
                return fast
        return full_build(
            loaded, db, slots, gfp, clean=clean, jobs=jobs, quiet=quiet, search=search, on_page=on_page
        )
    finally:
        db.close()


def full_build(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, gfp: str, *, clean: bool, jobs: int, quiet: bool,
    search: bool = True, on_page: Callable[[str], None] | None = None,
) -> BuildResult:
    """Every stage, in order, into the standby slot; then the commit point and the swap."""
    cfg, problems = loaded.cfg, loaded.problems
    premium_files = premium_state(cfg)  # the CMS files this build reads (a later import is its own change)
    cold = cold_caches.ColdCaches(cfg, jobs)  # books, history, CMS lists read cold in children (see there)
    ahead: SearchAhead | None = None
    try:
        models = load_models(cfg, loaded.pages, problems, quiet=quiet, jobs=jobs, defer_premium=True,
                             converted=cold.converted)  # load
        models = link_models(models, problems, quiet=quiet)  # link
        # The word index, from here on in a forked child where it can (see SearchAhead.start), else beside
        # the render.
        hand = [(pg.codeset, pg.key) for pg in loaded.pages]
        ahead = SearchAhead(cfg, models, db, clean=clean, hand=hand) if search else None
        if ahead is not None:
            ahead.start(jobs)
        return _render_and_publish(loaded, db, slots, gfp, models, premium_files, ahead, cold, clean=clean,
                                   jobs=jobs, quiet=quiet, search=search, on_page=on_page)
    finally:
        cold.stop()
        if ahead is not None:
            ahead.stop()


def _render_and_publish(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, gfp: str, models: Models, premium_files: str,
    ahead: SearchAhead | None, cold: cold_caches.ColdCaches, *, clean: bool, jobs: int, quiet: bool,
    search: bool, on_page: Callable[[str], None] | None,
) -> BuildResult:
    """The stages of a full build after link, into the standby slot; then the commit point and the swap."""
    cfg, problems = loaded.cfg, loaded.problems
    cold.books_ready()
    attach_books(cfg, models, quiet=quiet)  # books: index entries, PCS tables, definitions
    jobs_stage.check(cfg, problems)  # read the job listings
    validate(problems)  # validate
    theme = Theme.load(cfg, site_context(cfg, models))
    with phase("prepare", quiet=quiet):
        live = slots.manifest()
        slot, slot_dir, old = slots.open_target(clean=clean)
    pending: list[Pending] = []
    # The CMS files the pages' premium sections come from, linked beside the store: the gate renders
    # the sections from them on first unlock; the build only lists which each page has.
    with phase("lists", quiet=quiet):
        snapshot = premium_snapshot(cfg)
        cold.lists_ready()
        premium = SectionLists(cfg, snapshots.paths(cfg.store_path, snapshot), code_pages(models))
    try:
        job = RenderJob(
            cfg, models, theme.record_template(), theme.context("/", cfg.site_name), slot_dir, old,
            digests=search, on_page=on_page, premium=premium.page,
        )
        store = StoreJob(cfg.store_path, {
            "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            snapshots.STORE_META: json.dumps(snapshot, sort_keys=True),
        })
        pending.append(store)
        site: list[SiteFiles] = []
        side = [  # the search index, the data stages and write (the site's other files), among the pages
            *(ahead.sides() if ahead is not None else ()),
            *(Side(functools.partial(stage, cfg, models, jobs), pending.append) for stage in DATA_STAGES),
            Side(
                functools.partial(write_site_files_in, SITE_STAGES, theme, models, slot_dir, old), site.append
            ),
        ]
        with premium:
            rendered = render_pages(job, jobs=jobs, quiet=quiet, side=side, rows_to=store.add,  # render+store
                                    held=ahead.running if ahead is not None else None)
        with phase("store", quiet=quiet):
            store.finish(list(free_pages((cs, r) for cs, m in models.items() for r in m.records)),
                         linked_pages(models))
        files = rendered.files
        (site_files,) = site
        files.update(site_files.new)
        writer = SlotWriter(slot_dir, old, taken=files)  # the search files
        indexed: Indexed | None = None
        if search:  # index
            if ahead is not None:
                ahead.finish()
            indexed = search_stage(
                cfg, models, db, rendered.search_digests, clean=clean, quiet=quiet, jobs=jobs, ahead=ahead
            )
            publish_search(db, writer, files, indexed.files)
        files.update(writer.new)
        removed = slots.remove_stale(slot, old, files) if old else 0
        with phase("commit", quiet=quiet):
            for output in pending:  # the commit point: the store (and data beside it), then the swap
                output.commit()
            snapshots.prune(cfg.store_path)  # the CMS snapshots no live file names any more
    except BaseException:
        for output in pending:
            output.abort()
        raise
    with phase("publish", quiet=quiet):
        slots.publish(slot, files, live)  # publish: the one rename that makes the new site live
    with phase("state", quiet=quiet):
        idents = hand_identities(models, loaded.pages, cfg)
        record_build(
            db, complete=True,
            meta={
                "global": gfp, "site": json.dumps(theme.site, sort_keys=True), "premium": premium_files,
                **state.search_state(search),
                **jobs_publish.state(jobs_stage.listings(cfg).fingerprint, search),
            },
            hand=[(p, h, *idents.get(p, ("", ""))) for p, h in loaded.hand.items()],
            search=rendered.search_digests if search else None,
            search_files=indexed.site_paths() if indexed else None,
        )
    return BuildResult(
        "clean" if clean or not live else "full",
        pages=len(files), written=rendered.written + site_files.written + writer.written, removed=removed,
        counts={cs: m.code_count for cs, m in models.items()},
        reindexed=sorted(indexed.changed) if indexed else [], problems=problems,
        held=[models, files, live, old],
    )
