"""The fast path of a replaced CMS file: the store names the new file; what shows its release is rewritten.

Taken when nothing but premium data changed since the last build (code, theme, config, code sets,
books and hand-written pages as they were) and the changed kinds only feed page sections (NCCI,
MUE, RVU/GPCI, add-on codes, GEMs; not the modifier pages or CasePilot's LCD list), each from one
release (an NCCI or MUE kind holding several releases has a release history that follows them).
The store keeps references to the premium sections, which the gate renders from the CMS files the
store names (generator/premium/ondemand.py): the store is pointed at a snapshot of the new files
(the gate's cache of answers follows), and its rows stay as they are, except those of the CPT and
HCPCS pages that gain or lose a section, which are rendered again (their placeholders) with their
rows. The public pages that name the data's releases (the CPT code-number pages' source line) are
rendered again and replaced where their bytes changed, and CasePilot's facts name the new files.
Anything else falls back to the full build, which is always correct: an ICD-10 page gaining or
losing its crosswalk (its page shows the books' sections), pages added or removed, premium
sections made public.
"""
from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable

from . import snapshots, urls
from .assistant_facts import refresh_premium_facts
from .config import SiteConfig
from .inputs import Loaded, validate
from .jobs import publish as jobs_publish
from .link import CodeSetModel, link_models
from .load import load_models
from .model import CPT, HCPCS
from .pages import special_pages
from .premium import code_pages, premium_identities
from .premium.files import several_releases
from .premium.lists import CODESETS_OF, SECTION_KINDS, SECTION_OF, SectionLists, premium_snapshot
from .progress import say
from .publish import Journal, Slots, SlotWriter
from .render_job import RenderJob, render_chunk
from .result import BuildResult
from .state import get_meta, hand_records, record_build
from .store import StoreRow, packed_rows
from .store_job import replace_rows
from .theme import Theme

# Kinds whose release a CPT code-number page names in its public source line (premium.extra_records).
NAMED_ON_PAGES = frozenset({"ncci-ptp-practitioner", "ncci-ptp-hospital", "mue-practitioner", "mue-hospital",
                            "mue-dme", "ncci-aoc", "pprrvu"})
OldRows = dict[tuple[str, str], tuple[str, list[tuple[str, str, bytes]]]]


def premium_state(cfg: SiteConfig) -> str:
    """What a build records of the premium data (meta `premium`): each kind's file identity."""
    return json.dumps(premium_identities(cfg), sort_keys=True)


def update_premium(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, *, search: bool, quiet: bool,
    on_page: Callable[[str], None] | None = None,
) -> BuildResult | None:
    """Rewrites what the changed CMS files feed; None means "do a full build instead"."""
    cfg, problems = loaded.cfg, loaded.problems
    t0 = time.perf_counter()
    stored_hand = {path: rec[0] for path, rec in hand_records(db).items()}
    if stored_hand != loaded.hand or not jobs_publish.is_current(db, cfg, search):
        return None  # hand-written pages or the job board changed too
    stored = json.loads(get_meta(db, "premium") or "null")
    now = premium_identities(cfg)
    site_json, live = get_meta(db, "site"), slots.active()
    if not isinstance(stored, dict) or stored.keys() != now.keys() or site_json is None or live is None:
        return None  # a kind added or removed (pages appear or go), or nothing recorded
    changed = sorted(k for k in now if now[k] != stored[k])
    if not changed or any(k not in SECTION_OF for k in changed):
        return None  # the modifiers (pages of their own) or the LCD list (CasePilot's tables)
    if any(several_releases(now[k]) or several_releases(stored[k]) for k in changed):
        return None  # NCCI/MUE releases held side by side: their history sections and change page follow
    ids = {SECTION_OF[k] for k in changed}
    if any(not cfg.is_protected(SECTION_KINDS[i]) for i in ids):
        return None  # a public premium section: its text is in the pages
    codesets = {cs for i in ids for cs in CODESETS_OF[i] if cs in cfg.codesets}
    models = load_models(cfg, loaded.pages, problems, only=codesets, quiet=True, defer_premium=True)
    validate(problems)
    old = packed_rows(cfg.store_path, codesets)
    if {(cs, r.key) for cs in codesets for r in models[cs].records} != old.keys():
        return None  # pages added or removed
    snapshot = premium_snapshot(cfg)
    hand = {(p.codeset, p.key) for p in loaded.pages}
    with SectionLists(cfg, snapshots.paths(cfg.store_path, snapshot), code_pages(models)) as lists:
        moved = _moved_lists(models, old, ids, hand, lists)
        if any(cs not in (CPT, HCPCS) for cs, _ in moved):
            return None  # an ICD-10 page gains or loses its crosswalk: its page shows the books' sections too
        moves, staged, site, rows = _rewrite_pages(
            loaded, db, slots, models, site_json, changed, moved, lists, on_page)
    facts = refresh_premium_facts(cfg, changed)
    try:
        replace_rows(cfg.store_path, rows, {snapshots.STORE_META: json.dumps(snapshot, sort_keys=True)})
        facts.commit()
        snapshots.prune(cfg.store_path)
    except BaseException:
        facts.abort()
        raise
    if staged is not None:
        journal, files = staged
        journal.commit(slots, live, moves, [], {rel: files[rel] for _, rel in moves})
    record_build(db, complete=False, hand=[], meta={"premium": json.dumps(now, sort_keys=True), "site": site})
    say(f"premium    {', '.join(changed)}: {len(rows):,} store rows and {len(moves):,} pages rewritten "
        f"({time.perf_counter() - t0:.2f}s)", quiet=quiet)
    return BuildResult("premium", pages=len(moves), written=len(moves), problems=problems,
                       changed=[rel for _, rel in moves], rows=len(rows))


def _moved_lists(
    models: dict[str, CodeSetModel], old: OldRows, ids: set[str], hand: set[tuple[str, str]],
    lists: SectionLists,
) -> set[tuple[str, str]]:
    """The code pages whose sections of `ids` from the new files are not those stored."""
    moved = set()
    for cs in sorted(models):
        for rec in models[cs].records:
            if not rec.is_code:
                continue
            members = old[(cs, rec.key)][1]
            # A hand-written page got its sections at load; every other page gets them here.
            found = rec.sections if (cs, rec.key) in hand else lists(cs, rec.key, only=ids)
            if [s.id for s in found if s.id in ids] != [sid for sid, _, _ in members if sid in ids]:
                moved.add((cs, rec.key))
    return moved


def _rewrite_pages(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, models: dict[str, CodeSetModel], site_json: str,
    changed: list[str], moved: set[tuple[str, str]], lists: SectionLists,
    on_page: Callable[[str], None] | None,
) -> tuple[list[tuple[str, str]], tuple[Journal, dict[str, str]] | None, str, list[StoreRow]]:
    """Renders again into a journal's staging folder the pages that name the CMS releases (the CPT
    code-number pages' source line and, when the CPT release line changed, the home page and /cpt/)
    and the CPT and HCPCS pages whose list of sections changed (`moved`: their placeholders). Returns
    the moves of the files whose bytes changed, the staging journal, the site's variables (`site`
    meta) as they are now and the new store rows of the `moved` pages."""
    named = CPT in models and bool(NAMED_ON_PAGES.intersection(changed))
    codesets = {cs for cs, _ in moved} | ({CPT} if named else set())
    if not codesets:
        return [], None, site_json, []
    cfg = loaded.cfg
    linked = link_models({cs: models[cs] for cs in sorted(codesets)}, loaded.problems, quiet=True)
    site = json.loads(site_json)
    if named:
        for cs in site["codesets"]:
            if cs["slug"] == CPT:  # the release line of the code set, as render.site_context takes it
                cs["release"] = next((r.source for r in linked[CPT].records if r.is_code and r.source), "")
    theme = Theme.load(cfg, site)
    chunk = [(cs, i) for cs in sorted(codesets) for i, r in enumerate(linked[cs].records)
             if r.is_code and ((cs, r.key) in moved or (named and cs == CPT and not r.origin))]
    paths = {urls.file_for(urls.page_path(cs, linked[cs].records[i].key)) for cs, i in chunk}
    release_moved = named and site != json.loads(site_json)
    special = list(special_pages(theme, {CPT: linked[CPT]})) if release_moved else []
    live_hashes = slots.hashes(paths | {rel for rel, _ in special})
    journal = Journal(cfg.state_dir, db)
    staging = journal.stage()
    job = RenderJob(cfg, linked, theme.record_template(), theme.context("/", cfg.site_name), staging,
                    live_hashes, digests=False, on_page=on_page, premium=lists.page)
    result = render_chunk(job, chunk)
    writer = SlotWriter(staging, live_hashes, taken=result.files)
    for rel, data in special:
        writer.write(rel, data)
    files = {**result.files, **writer.new}
    moves = [(rel, rel) for rel, h in sorted(files.items()) if live_hashes.get(rel) != h]
    rows = [row for row in result.rows if (row[0], row[1]) in moved]
    return moves, (journal, files), json.dumps(site, sort_keys=True), rows
