"""The load stage: importer records (cached per source file), hand-written pages and premium sections."""
from __future__ import annotations

import functools
import hashlib
import os
import pickle
import time
from collections.abc import Callable
from pathlib import Path

from . import forking, pickle_cache
from .config import SiteConfig
from .content import HandPage
from .errors import BuildError, Problems
from .history import attach_history
from .importers import CodeSetImporter, codeset_importers
from .link import CodeSetModel
from .model import CODE, CODESET_NAMES, CPT, HCPCS, ICD10CM, ICD10PCS, CodeRecord
from .official import shipped_file
from .pickle_cache import cache_file, cached
from .premium import (
    PREMIUM_KINDS,
    PREMIUM_ORDER,
    PageSections,
    finish_conversions,
    normalised_file,
    start_conversions,
)
from .premium.lists import SectionLists, premium_files
from .progress import phase, say
from .registry import imported_source

CACHE_VERSION = "1"
HAND_ORDER_BASE = 10_000_000  # hand-only codes sort after imported ones unless they set `order`


def source_for(cfg: SiteConfig, imp: CodeSetImporter) -> Path | None:
    """The file a code set is read from: `sources` in site.yml, else the imported one, else the packaged
    default (a Python package's data), else the file the project ships in content/official/ (HCPCS)."""
    if imp.kind in cfg.sources:
        return cfg.root / cfg.sources[imp.kind]
    return imported_source(cfg, imp.kind) or imp.default_source() or shipped_file(cfg, imp.kind)


def importers_for(cfg: SiteConfig) -> dict[str, CodeSetImporter]:
    """Importers of the enabled code sets, by code set slug."""
    out: dict[str, CodeSetImporter] = {}
    for imp in codeset_importers().values():
        if imp.codeset in cfg.codesets:
            out.setdefault(imp.codeset, imp)
    return out


def stat_key(path: Path) -> str:
    st = os.stat(path)
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


@functools.cache
def code_version(root: Path) -> str:
    """Hash of the generator's own code: a changed importer must invalidate the parse cache.

    Cached: a build asks twice (fingerprint and parse cache) and the code cannot change under it."""
    h = hashlib.blake2b(digest_size=12)
    base = Path(__file__).parent
    for p in sorted(base.rglob("*.py")):
        h.update(str(p.relative_to(base)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _cache_path(cfg: SiteConfig, imp: CodeSetImporter, path: Path, version: str) -> Path:
    key = hashlib.blake2b(
        f"{CACHE_VERSION}|{version}|{imp.kind}|{stat_key(path)}".encode(), digest_size=12
    ).hexdigest()
    return cache_file(cfg.state_dir / "cache", imp.kind, key)


def read_source(
    cfg: SiteConfig, imp: CodeSetImporter, path: Path, version: str, *, background: bool = False
) -> list[CodeRecord]:
    """Reads an importer's file, through a pickle cache keyed by the file's identity and the code.

    `background`: write the cache from a forked child, so the build goes on while it pickles
    (half a second for ICD-10-CM); `wait_for_cache_writes()` waits for such children.
    """
    cache = _cache_path(cfg, imp, path, version)
    if cache.exists():
        with open(cache, "rb") as f:
            records: list[CodeRecord] = pickle.load(f)
        return records
    records = _share_sections(list(imp.read(path)))
    pid = (
        forking.start(lambda: pickle_cache.write(cache, imp.kind, records))
        if background and forking.can_fork()
        else None
    )
    if pid is not None:
        _BACKGROUND.append(pid)
    else:
        pickle_cache.write(cache, imp.kind, records)
    return records


# Children writing parse caches (see read_source); reaped by wait_for_cache_writes().
_BACKGROUND: list[int] = []


def wait_for_cache_writes() -> None:
    """Waits for the children that write parse caches (a later build must find them complete)."""
    while _BACKGROUND:
        forking.succeeded(_BACKGROUND.pop())


def read_sources(
    cfg: SiteConfig, wanted: list[tuple[str, CodeSetImporter, Path]], version: str, jobs: int
) -> dict[str, list[CodeRecord]]:
    """Reads several code sets' files; with `jobs` > 1, the uncached ones in parallel.

    A cold build parses ICD-10-CM (1.3 s) and ICD-10-PCS (0.5 s) one after the other, then
    pickles both for the next build (1 s): on two cores, forked children parse the smaller
    files (each writing its cache) while this process parses the largest, and pickling
    happens in the background. A child that fails only costs time: its file is then read
    here, where the error is raised with its message.
    """
    todo = [(cs, imp, src) for cs, imp, src in wanted if not _cache_path(cfg, imp, src, version).exists()]
    children: dict[str, int] = {}
    if jobs > 1 and len(todo) > 1 and forking.can_fork():
        todo.sort(key=lambda t: t[2].stat().st_size, reverse=True)
        for n, (cs, imp, src) in enumerate(todo[1:]):
            if n >= jobs - 1:
                break
            pid = forking.start(functools.partial(read_source, cfg, imp, src, version))
            if pid is not None:
                children[cs] = pid
    out: dict[str, list[CodeRecord]] = {}
    try:
        for cs, imp, src in wanted:
            if cs not in children:
                out[cs] = read_source(cfg, imp, src, version, background=jobs > 1)
        for cs, imp, src in wanted:
            if cs in children:
                # If it failed, read_source parses here and raises the error.
                forking.succeeded(children.pop(cs))
                out[cs] = read_source(cfg, imp, src, version)
    finally:
        for pid in children.values():  # this process's own parse failed: the others are not wanted
            forking.stop(pid)
    return out


def load_models(
    cfg: SiteConfig, pages: list[HandPage], problems: Problems, only: set[str] | None = None, *,
    quiet: bool = False, premium_keys: set[tuple[str, str]] | None = None, jobs: int = 1,
    defer_premium: bool = False, converted: Callable[[], None] | None = None,
) -> dict[str, CodeSetModel]:
    """Importer records + hand-written pages + premium sections, per enabled code set (not linked yet).

    `only` limits the code sets, `premium_keys` the pages that get premium sections (the fast
    path); `jobs` > 1 lets uncached source files be parsed in parallel (see `read_sources`).
    `defer_premium`: only the hand-written pages get theirs here (where a clash is reported); the
    render workers build the others' page by page (`premium.PageSections`, the full build).
    `converted` is called once the CMS files are converted (the full build starts a child there)."""
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
    # The shipped CMS files are converted (once) by forked children while the code sets are read.
    converting = start_conversions(cfg, jobs) if premium_keys is None else []
    read = read_sources(cfg, wanted, version, jobs)
    for codeset in enabled:
        records = read.get(codeset, [])
        check_unique(codeset, records)
        has_bulk = bool(records)
        records = merge_hand_pages(codeset, records, by_codeset.get(codeset, []), has_bulk, problems)
        models[codeset] = CodeSetModel(codeset, records)
        say(f"load       {codeset}: {len(records)} records", quiet=quiet)
    say(f"load       {time.perf_counter() - t0:.2f}s", quiet=quiet)
    if defer_premium:
        premium_keys = {(p.codeset, p.key) for p in pages}
    # Earlier releases: history blocks, new/revised badges. The code sets the premium stage leaves alone
    # (ICD-10-CM and ICD-10-PCS without a page given premium sections: it adds pages to CPT and HCPCS
    # only) get theirs first, while the CMS files are still being converted, not after with a core idle;
    # each record's sections come in the same order either way.
    early = [cs for cs in (ICD10CM, ICD10PCS) if cs in models and premium_keys is not None
             and not any(c == cs for c, _ in premium_keys)]
    if early:
        with phase("history", quiet=quiet):
            attach_history(cfg, {cs: models[cs].records for cs in early})
    if converting:
        with phase("convert", quiet=quiet):
            finish_conversions(converting)
    if converted is not None:
        converted()
    with phase("premium", quiet=quiet):
        _attach_premium(cfg, models, problems, premium_keys)
    with phase("history", quiet=quiet):
        attach_history(cfg, {cs: m.records for cs, m in models.items() if cs not in early})
    return models


def _attach_premium(
    cfg: SiteConfig, models: dict[str, CodeSetModel], problems: Problems, keys: set[tuple[str, str]] | None
) -> None:
    """Premium sections on the code pages (those of `keys` only, if given): placeholders the gate
    renders (`premium.lists`); the CPT code-number pages the CMS files name are added first."""
    existing = {cs: {r.key for r in m.records} for cs, m in models.items()}
    code_pages = {cs: {r.key for r in m.records if r.kind == CODE} for cs, m in models.items()}
    for rec in _cms_pages(cfg, existing):
        if rec.codeset in models and rec.key not in existing[rec.codeset]:
            models[rec.codeset].records.append(rec)
            existing[rec.codeset].add(rec.key)
            if rec.is_code:
                code_pages[rec.codeset].add(rec.key)
    if keys is not None and not keys:
        return
    with SectionLists(cfg, premium_files(cfg), code_pages, only=keys) as lists:
        for codeset in [cs for cs in PREMIUM_ORDER if cs in models]:
            wanted = None if keys is None else {k for cs, k in keys if cs == codeset}
            if wanted is not None and not wanted:
                continue  # no page of this code set gets sections here (a full build: hand-written ones only)
            for target in models[codeset].records:
                if target.kind != CODE or (wanted is not None and target.key not in wanted):
                    continue
                for section in lists.page(codeset, target.key):
                    if any(s.id == section.id for s in target.sections):
                        problems.warn(
                            target.origin or codeset, 0,
                            f"{target.key}: section '{section.id}' given twice; the first is kept",
                        )
                        continue
                    target.sections = [*target.sections, section]


def _cms_pages(cfg: SiteConfig, existing: dict[str, set[str]]) -> list[CodeRecord]:
    """`premium.extra_records` (the CPT code-number pages and HCPCS modifier pages the CMS files make) of
    the code sets loaded, through pickle caches keyed by the files read, the generator's code and (for
    CPT) the pages there are already: reading every code of every file takes a fifth of a second, which
    the fast path of one hand-written page cannot spare. One cache per code set, so that the fast path of
    a CPT page (which does not load HCPCS) and of an HCPCS page (which does not load CPT) each find what
    the full build cached."""
    files = {kind: path for kind in PREMIUM_KINDS if (path := normalised_file(cfg, kind)) is not None}
    if not files:
        return []
    h = hashlib.blake2b(f"{CACHE_VERSION}|{code_version(cfg.root)}".encode(), digest_size=12)
    for kind, path in sorted(files.items()):
        h.update(f"|{kind}={stat_key(path)}".encode())
    # What extra_records reads of the pages: the CPT keys (the pages made with HCPCS taken as without
    # its own modifiers group, then dropped below if it has one). The HCPCS pages do not depend on them.
    cpt = {CPT: existing.get(CPT, set())}
    made: list[list[CodeRecord]] = []

    def make(codeset: str) -> list[CodeRecord]:
        if not made:
            with PageSections(cfg, cpt, files) as by_page:
                made.append(list(by_page.extra_records(cpt)))
        return [rec for rec in made[0] if rec.codeset == codeset]

    out: list[CodeRecord] = []
    cache = cfg.state_dir / "cache"
    if HCPCS in existing and "modifiers" not in existing[HCPCS]:  # else the HCPCS file has its modifiers
        out += cached(cache_file(cache, "cms-pages-hcpcs", h.hexdigest()), "cms-pages-hcpcs",
                      lambda: make(HCPCS), replaces=_CMS_PAGES_BEFORE)
    if CPT in existing:
        h.update(("|" + "\x1f".join(sorted(cpt[CPT]))).encode())
        out += cached(cache_file(cache, "cms-pages-cpt", h.hexdigest()), "cms-pages-cpt", lambda: make(CPT),
                      replaces=_CMS_PAGES_BEFORE)
    return out


# The one cache of both code sets' CMS-made pages that builds before the per-code-set caches kept
# (`cms-pages-<hex>.pickle`): removed when either of its successors is first written.
_CMS_PAGES_BEFORE = ("cms-pages",)


def _share_sections(records: list[CodeRecord]) -> list[CodeRecord]:
    """Makes equal sections one object (ICD-10-CM repeats a category's notes on every code
    beneath it: 460k sections, 20k distinct), and equal facts ("Billable", "Yes") one tuple.
    Pickle then stores and loads each once, and the model the render workers share is smaller.
    Sections and facts are never mutated after import, so sharing is safe."""
    seen: dict[tuple[object, ...], object] = {}
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for rec in records:
        if rec.facts:
            rec.facts = [pairs.setdefault(pair, pair) for pair in rec.facts]
        shared = []
        for sec in rec.sections:
            k = (sec.id, sec.kind, sec.title, sec.html, sec.text, sec.protected)
            shared.append(seen.setdefault(k, sec))
        rec.sections = shared  # type: ignore[assignment]
    return records


def merge_hand_pages(
    codeset: str, records: list[CodeRecord], pages: list[HandPage], has_bulk: bool, problems: Problems
) -> list[CodeRecord]:
    """Merges hand-written pages into the imported records of one code set (in place)."""
    index = {r.key: i for i, r in enumerate(records)}
    for page in pages:
        i = index.get(page.key)
        if i is None:
            if has_bulk:
                problems.error(
                    page.path, 1,
                    f"{CODESET_NAMES[codeset]} has no code '{page.key}' in the imported data; check the code "
                    "(as officially printed, with its dot) or remove the page",
                )
                continue
            if not page.title and codeset != CPT:
                problems.error(
                    page.path, 1,
                    f"'{page.key}' is not in any imported file, "
                    "so the page needs a 'title' in its front matter",
                )
                continue
            rec = CodeRecord(
                codeset=codeset,
                key=page.key,
                title=page.title or "",
                parent=page.parent,
                order=page.order if page.order is not None else HAND_ORDER_BASE + len(records),
                billable=page.billable,
                origin=page.path,
            )
            index[page.key] = len(records)
            records.append(rec)
            i = index[page.key]
        rec = records[i]
        if page.title and has_bulk and page.title != rec.title:
            problems.warn(page.path, 1, "'title' is ignored: the official title comes from the imported data")
        elif page.title:
            rec.title = page.title
        if page.summary:
            rec.short_title = page.summary
        if page.billable is not None and not has_bulk:
            rec.billable = page.billable
        rec.facts = list(rec.facts) + _own_facts(page, rec, problems)
        taken = {s.id for s in rec.sections}
        new_sections = list(rec.sections)
        for s in page.sections:
            if s.id in taken:
                problems.error(
                    page.path, 1,
                    f"section '{s.title}' clashes with the official section '{s.id}' of {page.key}; "
                    "rename the heading",
                )
                continue
            new_sections.append(s)
        rec.sections = new_sections
        if not rec.source:
            rec.source = _hand_source(codeset)
        rec.origin = rec.origin or page.path
    return records


def _own_facts(page: HandPage, rec: CodeRecord, problems: Problems) -> list[tuple[str, str]]:
    """The page's facts that the imported data does not already give: a hand-written "Coverage" next to the
    official file's "Coverage" would print the fact twice, so, as with 'title', the official value wins."""
    official = {name.casefold() for name, _ in rec.facts}
    clash = [name for name, _ in page.facts if name.casefold() in official]
    if clash:
        names = ", ".join(f"'{name}'" for name in clash)
        problems.warn(
            page.path, 1, f"fact {names} is ignored: the official value comes from the imported data"
        )
    return [(name, value) for name, value in page.facts if name.casefold() not in official]


def _hand_source(codeset: str) -> str:
    if codeset == CPT:
        return "CPT® code number (AMA); plain-language content by coderef"
    return f"{CODESET_NAMES[codeset]}, CMS; notes by coderef"


def check_unique(codeset: str, records: list[CodeRecord]) -> None:
    seen: set[str] = set()
    for r in records:
        if r.key in seen:
            raise BuildError(f"{CODESET_NAMES[codeset]}: code '{r.key}' appears twice in the imported data")
        seen.add(r.key)
