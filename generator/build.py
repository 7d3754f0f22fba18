"""The build, as a table of contents: load → validate → link → render → write → index → publish.

A clean or full build renders every page (in parallel worker processes) into the inactive slot,
writing only files whose bytes changed, then swaps the `site` link (see `publish.py`). When only
hand-written pages changed, the fast path re-renders just those pages. When nothing changed, the
build stops after fingerprinting its inputs.
"""
from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import xxhash

from . import forking, urls
from .assistant_facts import FactsJob
from .casepilot_pages import casepilot_pages
from .config import SiteConfig, load_config
from .content import HandPage, read_pages
from .errors import BuildError, ContentErrors, Problems
from .fragments import AncestorCache
from .frames import FrameRenderer
from .guides import Guide, read_guides
from .link import CodeSetModel, link
from .load import (
    check_unique,
    code_version,
    importers_for,
    merge_hand_pages,
    read_sources,
    source_for,
    wait_for_cache_writes,
)
from .model import CPT
from .pages import common, special_pages
from .progress import Progress, phase, say
from .publish import ALL, Slots, SlotWriter, digest
from .render import build_assets, make_env, page_context, site_context, wall_text
from .state import get_meta, global_fingerprint, hand_hashes, open_state, set_meta
from .store import Packed, Packer, StoreWriter

StoreRow = tuple[str, str, str, list[Packed]]


@dataclass
class BuildResult:
    mode: str  # "clean", "full", "pages" (hand-written pages only) or "noop"
    pages: int = 0
    written: int = 0
    removed: int = 0
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    reindexed: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    # The build's large structures, handed to the caller instead of being freed on return: the
    # `coderef` command then exits without freeing them (see cli.run); a library caller frees
    # them with the result.
    held: list[object] = field(default_factory=list, repr=False, compare=False)


# ---------------------------------------------------------------------------------------------
# Loading and validation


@dataclass
class Loaded:
    cfg: SiteConfig
    problems: Problems
    pages: list[HandPage]
    hand: dict[str, str]  # content path -> hash
    guides: list[Guide] = field(default_factory=list)


def load_inputs(root: Path) -> Loaded:
    """Reads config, hand-written pages and guides, collecting every problem."""
    problems = Problems()
    cfg = load_config(root, problems)
    pages = read_pages(cfg.content_dir, root, problems)
    guides = read_guides(cfg.content_dir, root, problems)
    for page in pages:
        if page.codeset not in cfg.codesets:
            problems.warn(
                page.path, 0, f"code set '{page.codeset}' is not enabled in content/site.yml; page skipped"
            )
    pages = [p for p in pages if p.codeset in cfg.codesets]
    return Loaded(cfg, problems, pages, hand_hashes(cfg.content_dir, root), guides)


def load_models(
    cfg: SiteConfig, pages: list[HandPage], problems: Problems, only: set[str] | None = None, *,
    quiet: bool = False, premium_keys: set[tuple[str, str]] | None = None, jobs: int = 1,
) -> dict[str, CodeSetModel]:
    """Importer records + hand-written pages + premium data, linked, per enabled code set.

    `jobs` > 1 lets uncached source files be parsed in parallel (see `load.read_sources`)."""
    version = code_version(cfg.root)
    importers = importers_for(cfg)
    models: dict[str, CodeSetModel] = {}
    by_codeset: dict[str, list[HandPage]] = {}
    for page in pages:
        by_codeset.setdefault(page.codeset, []).append(page)
    enabled = [cs for cs in cfg.codesets if only is None or cs in only]
    wanted = []
    for codeset in enabled:
        imp = importers.get(codeset)
        src = source_for(cfg, imp) if imp is not None else None
        if imp is not None and src is not None:
            wanted.append((codeset, imp, src))
    t0 = time.perf_counter()
    read = read_sources(cfg, wanted, version, jobs)
    for codeset in enabled:
        records = read.get(codeset, [])
        check_unique(codeset, records)
        has_bulk = bool(records)
        records = merge_hand_pages(codeset, records, by_codeset.get(codeset, []), has_bulk, problems)
        models[codeset] = CodeSetModel(codeset, records)
        say(f"load       {codeset}: {len(records)} records", quiet=quiet)
    say(f"load       {time.perf_counter() - t0:.2f}s", quiet=quiet)
    with phase("premium", quiet=quiet):
        _attach_premium(cfg, models, problems, premium_keys)
    with phase("link", quiet=quiet):
        for codeset, model in models.items():
            models[codeset] = link(codeset, model.records, problems)
    return models


def _attach_premium(
    cfg: SiteConfig, models: dict[str, CodeSetModel], problems: Problems, keys: set[tuple[str, str]] | None
) -> None:
    try:
        from .premium import extra_records, premium_sections
    except ImportError:  # pragma: no cover - lands with the CMS premium data
        return
    existing = {cs: {r.key for r in m.records} for cs, m in models.items()}
    for rec in extra_records(cfg, existing):
        if rec.codeset in models and rec.key not in existing[rec.codeset]:
            models[rec.codeset].records.append(rec)
            existing[rec.codeset].add(rec.key)
    code_pages = {
        cs: {r.key for r in m.records if r.is_code and (keys is None or (cs, r.key) in keys)}
        for cs, m in models.items()
    }
    index = {cs: {r.key: r for r in m.records} for cs, m in models.items()}
    for codeset, key, section in premium_sections(cfg, code_pages):
        target = index.get(codeset, {}).get(key)
        if target is None:
            continue
        rec = target
        if any(s.id == section.id for s in rec.sections):
            problems.warn(
                rec.origin or codeset, 0, f"{key}: section '{section.id}' given twice; the first is kept"
            )
            continue
        rec.sections = [*rec.sections, section]


def check(root: Path, *, quiet: bool = True) -> Problems:
    """Validates config, hand-written pages and their merge with the imported data; writes nothing."""
    loaded = load_inputs(root)
    if not loaded.problems.errors:
        try:
            load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=quiet)
        except BuildError as exc:
            loaded.problems.error("build", 0, str(exc))
    return loaded.problems


# ---------------------------------------------------------------------------------------------
# Rendering (in worker processes; the job is inherited through fork)

_JOB: dict[str, Any] = {}


def _public_digest(
    cfg: SiteConfig, model: CodeSetModel, i: int, memo: dict[int, tuple[object, str]] | None = None
) -> bytes:
    """What search indexes of a record, as a digest. `memo` caches per shared section object."""
    rec = model.records[i]
    parts = [rec.key, rec.title, rec.short_title, rec.kind, str(rec.billable), rec.parent or ""]
    for s in rec.sections:
        if not cfg.is_protected(s.kind, s.protected):
            hit = memo.get(id(s)) if memo is not None else None
            if hit is None or hit[0] is not s:
                hit = (s, xxhash.xxh3_64_hexdigest(f"{s.id}\x1f{s.text}".encode()))
                if memo is not None:
                    memo[id(s)] = hit
            parts.append(hit[1])
    return xxhash.xxh3_64_digest("\x1f".join(parts).encode())


def _protected_rows(
    cfg: SiteConfig, codeset: str, model: CodeSetModel, i: int, packer: Packer
) -> StoreRow | None:
    rec = model.records[i]
    if not rec.is_code:
        return None
    sections = [packer(s.id, s.title, s.html) for s in rec.sections if cfg.is_protected(s.kind, s.protected)]
    return (codeset, rec.key, rec.title or rec.short_title or rec.key, sections)


def _render_chunk(
    chunk: list[tuple[str, int]],
) -> tuple[dict[str, str], int, list[StoreRow], list[tuple[str, int, bytes]]]:
    cfg: SiteConfig = _JOB["cfg"]
    models: dict[str, CodeSetModel] = _JOB["models"]
    tpl: jinja2.Template = _JOB["template"]
    base: dict[str, Any] = _JOB["base"]
    caches: dict[str, AncestorCache] = _JOB.setdefault("caches", {})
    packer: Packer = _JOB.setdefault("packer", Packer())
    frames: FrameRenderer = _JOB.setdefault("frames", FrameRenderer(tpl))
    memo: dict[int, tuple[object, str]] = _JOB.setdefault("memo", {})
    want_digests: bool = _JOB["digests"]
    writer = SlotWriter(_JOB["slot_dir"], _JOB["old"])
    # Fault-injection hook for the atomic-publish test: seconds to sleep per page.
    delay = float(os.environ.get("CODEREF_TEST_SLOW_RENDER", "0") or 0)
    wall = wall_text(cfg)
    rows: list[StoreRow] = []
    digests: list[tuple[str, int, bytes]] = []
    for codeset, i in chunk:
        model = models[codeset]
        cache = caches.get(codeset)
        if cache is None:
            cache = caches[codeset] = AncestorCache(model)
        page = page_context(cfg, model, i, cache, wall)
        rec = model.records[i]
        top = {
            "canonical": page["canonical"],
            "title": (
                f"{rec.display} \u2014 {rec.title or rec.short_title}" if rec.title or rec.short_title
                else f"{page['codeset_name']}\u00ae {rec.display}" if codeset == CPT else rec.display
            ),
        }
        writer.write(urls.file_for(page["url"]), frames.render(base, page, top).encode())
        if delay:
            time.sleep(delay)
        row = _protected_rows(cfg, codeset, model, i, packer)
        if row is not None:
            rows.append(row)
        if want_digests:
            digests.append((codeset, i, _public_digest(cfg, model, i, memo)))
    return writer.new, writer.written, rows, digests


def _chunks(models: dict[str, CodeSetModel], size: int) -> list[list[tuple[str, int]]]:
    flat = [(cs, i) for cs, m in models.items() for i in range(len(m.records))]
    return [flat[s : s + size] for s in range(0, len(flat), size)]


def render_pages(
    cfg: SiteConfig, models: dict[str, CodeSetModel], env: jinja2.Environment, base: dict[str, Any],
    slot_dir: Path, old: dict[str, str], jobs: int, quiet: bool, digests: bool = True,
) -> tuple[dict[str, str], int, list[StoreRow], dict[str, str]]:
    """Renders every record page; returns manifest, files written, store rows, search digests
    (none when `digests` is false: a build without the search stage has no use for them)."""
    _JOB.update(
        cfg=cfg, models=models, template=env.get_template("page.html"), base=base, slot_dir=slot_dir, old=old,
        digests=digests,
    )
    total = sum(len(m.records) for m in models.values())
    chunks = _chunks(models, 2000)
    progress = Progress("render", total, quiet=quiet)
    cpu0 = time.process_time()
    manifest: dict[str, str] = {}
    written = 0
    rows: list[StoreRow] = []
    found: list[tuple[str, int, bytes]] = []

    def take(result: tuple[dict[str, str], int, list[StoreRow], list[tuple[str, int, bytes]]]) -> None:
        nonlocal written
        new, w, r, d = result
        for rel in new.keys() & manifest.keys():
            raise BuildError(f"two pages want the same path '{rel}'")
        manifest.update(new)
        written += w
        rows.extend(r)
        found.extend(d)
        progress.advance(len(new))

    try:
        if jobs <= 1 or total < 5000:
            for chunk in chunks:
                take(_render_chunk(chunk))
        else:
            ctx = multiprocessing.get_context("fork")
            with ctx.Pool(jobs) as pool:
                for result in pool.imap_unordered(_render_chunk, chunks):
                    take(result)
    finally:
        _JOB.clear()
    progress.finish(f"(parent cpu {time.process_time() - cpu0:.2f}s)")
    t_digest = time.perf_counter()
    per_cs: dict[str, Any] = {}
    for codeset, _, d in sorted(found):
        per_cs.setdefault(codeset, hashlib.blake2b(digest_size=16)).update(d)
    rows.sort(key=lambda r: (r[0], r[1]))
    say(f"digests    {time.perf_counter() - t_digest:.2f}s", quiet=quiet)
    return manifest, written, rows, {cs: h.hexdigest() for cs, h in per_cs.items()}


class StoreJob:
    """Writes a fresh protected store beside the live one, in a forked child when `jobs` > 1.

    `commit()` waits for it and renames it into place; if the child failed, the store is
    written here instead, so that a real error is raised with its message.
    """

    def __init__(self, path: Path, rows: list[StoreRow], meta: dict[str, str], jobs: int) -> None:
        self.path = path
        self.rows = rows
        self.meta = meta
        self.pid = forking.start(self._write) if jobs > 1 and forking.can_fork() else None

    def _write(self) -> StoreWriter:
        writer = StoreWriter(self.path, fresh=True)
        try:
            writer.add_many(self.rows)
            for key, value in self.meta.items():
                writer.set_meta(key, value)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        return writer

    def commit(self) -> None:
        ok = self.pid is not None and forking.succeeded(self.pid)
        self.pid = None  # reaped (an interrupt while waiting leaves it to abort())
        if ok:
            StoreWriter.published(self.path)
        else:
            self._write().publish()

    def abort(self) -> None:
        pid, self.pid = self.pid, None
        if pid is not None:
            forking.stop(pid)
        StoreWriter.discard(self.path)


# ---------------------------------------------------------------------------------------------
# Search stage


def index_search(
    cfg: SiteConfig, models: dict[str, CodeSetModel], changed: set[str], quiet: bool
) -> dict[str, list[tuple[str, Path]]] | None:
    try:
        from .search import index_codesets
    except ImportError:  # pragma: no cover - lands with the search stage
        return None
    t0 = time.perf_counter()
    files = index_codesets(cfg, models, cfg.state_dir / "search", changed)
    say(
        f"search     re-indexed {', '.join(sorted(changed)) or 'nothing'} in {time.perf_counter() - t0:.2f}s",
        quiet=quiet,
    )
    return files


def _file_hashes(db: sqlite3.Connection, files: Iterable[tuple[str, Path]]) -> list[tuple[str, Path, str]]:
    """Hashes search files once (by path, size and mtime) and remembers them in the state db."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS file_hash(path TEXT PRIMARY KEY, stat TEXT NOT NULL, hash TEXT NOT NULL)"
    )
    known = {p: (s, h) for p, s, h in db.execute("SELECT path, stat, hash FROM file_hash")}
    out = []
    fresh = []
    for rel, src in files:
        st = os.stat(src)
        key = f"{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
        hit = known.get(str(src))
        if hit is not None and hit[0] == key:
            h = hit[1]
        else:
            h = digest(src.read_bytes())
            fresh.append((str(src), key, h))
        out.append((rel, src, h))
    db.executemany("INSERT OR REPLACE INTO file_hash VALUES (?, ?, ?)", fresh)
    return out


# ---------------------------------------------------------------------------------------------
# The build


def build(
    root: Path, *, clean: bool = False, jobs: int | None = None, quiet: bool = False, strict: bool = False,
    search: bool = True,
) -> BuildResult:
    """Builds the site below `root` into `site/` and the protected store; see the module docstring."""
    t0 = time.perf_counter()
    # The build allocates millions of small objects and frees almost none of them before it
    # ends: the cyclic GC only costs time here (3x on unpickling the parsed code sets).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(root, t0, clean=clean, jobs=jobs, quiet=quiet, strict=strict, search=search)
    finally:
        wait_for_cache_writes()
        if gc_was_enabled:
            gc.enable()


def _build(
    root: Path, t0: float, *, clean: bool, jobs: int | None, quiet: bool, strict: bool, search: bool
) -> BuildResult:
    loaded = load_inputs(root)
    cfg, problems = loaded.cfg, loaded.problems
    if problems.errors or (strict and problems.warnings):
        raise ContentErrors(problems)
    jobs = jobs or min(os.cpu_count() or 1, 8)
    with build_lock(cfg.state_dir, quiet=quiet):
        return _locked_build(loaded, t0, clean=clean, jobs=jobs, quiet=quiet, search=search)


@contextlib.contextmanager
def build_lock(state_dir: Path, *, quiet: bool) -> Iterator[None]:
    """One build at a time per project: a second one waits (both would write the standby slot)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "build.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("build      another build of this project is running; waiting for it to finish", quiet=quiet)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _locked_build(
    loaded: Loaded, t0: float, *, clean: bool, jobs: int, quiet: bool, search: bool
) -> BuildResult:
    cfg, problems = loaded.cfg, loaded.problems
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
        )
        if up_to_date:
            stored = dict(db.execute("SELECT path, hash FROM hand"))
            if stored == loaded.hand:
                result = BuildResult("noop", problems=problems)
                result.seconds = time.perf_counter() - t0
                say(f"build      nothing changed ({result.seconds:.2f}s)", quiet=quiet)
                return result
            if stored.keys() == loaded.hand.keys():
                from .incremental import build_pages

                fast = build_pages(loaded, db, slots, stored, quiet=quiet, search=search)
                if fast is not None:
                    fast.seconds = time.perf_counter() - t0
                    say(f"build      {fast.written} files changed ({fast.seconds:.2f}s)", quiet=quiet)
                    return fast
        result = full_build(loaded, db, slots, gfp, clean=clean, jobs=jobs, quiet=quiet, search=search)
        result.seconds = time.perf_counter() - t0
        say(
            f"build      {result.pages} pages, {result.written} files written, {result.removed} removed "
            f"in {result.seconds:.2f}s",
            quiet=quiet,
        )
        return result
    finally:
        db.close()


def full_build(
    loaded: Loaded, db: sqlite3.Connection, slots: Slots, gfp: str, *, clean: bool, jobs: int, quiet: bool,
    search: bool = True,
) -> BuildResult:
    cfg, problems = loaded.cfg, loaded.problems
    models = load_models(cfg, loaded.pages, problems, quiet=quiet, jobs=jobs)
    if problems.errors:
        raise ContentErrors(problems)
    env = make_env(cfg.theme_dir)
    assets = build_assets(cfg.theme_dir)
    site = site_context(cfg, models)
    base = common(cfg, site, assets, "/", cfg.site_name, env)

    with phase("prepare", quiet=quiet):
        live_manifest = slots.manifest()
        slot, slot_dir, old = slots.open_target(clean=clean)
    store: StoreJob | None = None
    facts: FactsJob | None = None
    try:
        manifest, written, rows, search_digests = render_pages(
            cfg, models, env, base, slot_dir, old, jobs, quiet, digests=search
        )
        # The store is written by a forked child while this process writes the special pages
        # and (in a normal build) the search index.
        store = StoreJob(
            cfg.store_path, rows, {"built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, jobs
        )
        writer = SlotWriter(slot_dir, old)
        writer.new = {}
        with phase("pages", quiet=quiet):
            for rel, data in [*special_pages(cfg, env, site, assets, models),
                              *casepilot_pages(cfg, env, site, assets, loaded.guides)]:
                if rel in manifest:
                    raise BuildError(f"two outputs want the same path '{rel}'")
                writer.write(rel, data)
        if cfg.assistant.enabled:
            with phase("assistant", quiet=quiet):
                facts = FactsJob(cfg)
                facts.write(models, loaded.guides)
        stored_digests = dict(db.execute("SELECT codeset, digest FROM search"))
        changed = {cs for cs, d in search_digests.items() if clean or stored_digests.get(cs) != d}
        search_files = index_search(cfg, models, changed, quiet) if search else None
        if search_files is not None:
            for _codeset, files in sorted(search_files.items()):
                for rel, src, h in _file_hashes(db, files):
                    if rel in manifest or (rel in writer.new and writer.new[rel] != h):
                        raise BuildError(f"search file '{rel}' collides with a page")
                    if rel not in writer.new:
                        writer.link(rel, src, h)
        manifest.update(writer.new)
        written += writer.written
        removed = slots.remove_stale(slot, old, manifest) if old else 0
        with phase("store", quiet=quiet):
            # Commit point: store and CasePilot's facts, then the one rename that makes the new site live.
            store.commit()
            if facts is not None:
                facts.publish()
    except BaseException:
        if store is not None:
            store.abort()
        if facts is not None:
            facts.abort()
        raise
    if not live_manifest:
        changed_paths: set[str] = ALL
    else:
        changed_paths = {
            p for p in manifest.keys() | live_manifest.keys() if manifest.get(p) != live_manifest.get(p)
        }
    with phase("publish", quiet=quiet):
        slots.commit(slot, manifest, changed_paths)
    t_state = time.perf_counter()
    db.execute("BEGIN")
    set_meta(db, "global", gfp)
    set_meta(db, "site", json.dumps(site, sort_keys=True))
    db.execute("DELETE FROM hand")
    idents = hand_identities(models, loaded.pages, cfg)
    db.executemany(
        "INSERT INTO hand VALUES (?, ?, ?, ?)",
        [(p, h, *idents.get(p, ("", ""))) for p, h in loaded.hand.items()],
    )
    if search:
        db.execute("DELETE FROM search")
        db.executemany("INSERT INTO search VALUES (?, ?)", sorted(search_digests.items()))
    if search_files is not None:
        db.execute("DELETE FROM search_files")
        db.executemany(
            "INSERT INTO search_files VALUES (?, ?)",
            [(cs, rel) for cs, files in search_files.items() for rel, _ in files],
        )
    db.execute("COMMIT")
    say(f"state      {time.perf_counter() - t_state:.2f}s", quiet=quiet)
    counts = {cs: m.code_count for cs, m in models.items()}
    return BuildResult(
        "clean" if clean or not live_manifest else "full",
        pages=len(manifest), written=written, removed=removed, counts=counts,
        reindexed=sorted(changed), problems=problems, held=[models, manifest, live_manifest, rows, old],
    )


def hand_identities(
    models: dict[str, CodeSetModel], pages: list[HandPage], cfg: SiteConfig
) -> dict[str, tuple[str, str]]:
    """Per hand page: what other pages show of it (identity) and its public search text digest.

    The fast path may re-render only the page itself when neither changed.
    """
    out: dict[str, tuple[str, str]] = {}
    for page in pages:
        model = models.get(page.codeset)
        if model is None or page.key not in model.index:
            continue
        i = model.index[page.key]
        out[page.path] = (record_identity(model, i), _public_digest(cfg, model, i).hex())
    return out


def record_identity(model: CodeSetModel, i: int) -> str:
    rec = model.records[i]
    return "\x1f".join(
        [rec.key, rec.title, rec.short_title, rec.kind, str(rec.billable), rec.parent or "", str(rec.order)]
    )
