"""The render stage: record pages rendered into a slot (in forked workers), with their store rows.

A `RenderJob` says what to render with and where to write; `render_chunk(job, chunk)` renders a
list of records and returns a `ChunkResult`; `render_pages(job, ...)` renders every record of
the job's models, in parallel worker processes that inherit the job through fork. The same
workers also run the build's other work that needs only the model (`Side`: the site's other
files, the data stages), so that no core idles while one process does it alone.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from . import urls
from .config import SiteConfig
from .errors import BuildError
from .fragments import AncestorCache
from .frames import FrameRenderer
from .identity import DigestMemo, public_digest
from .link import CodeSetModel
from .model import CPT, Section
from .progress import Progress, say
from .publish import SlotWriter
from .render import forget_fragments, page_context, wall_text
from .store import Packer, StoreRow

Chunk = list[tuple[str, int]]  # (code set, record index) pairs
CHUNK_SIZE = 2000
PARALLEL_FROM = 5000  # fewer pages render faster in this process than forking workers costs


@dataclass
class RenderJob:
    """What rendering record pages needs. Worker processes inherit it through fork."""

    cfg: SiteConfig
    models: dict[str, CodeSetModel]
    template: jinja2.Template  # the theme's page.html
    base: dict[str, Any]  # the variables every page shares (theme.Theme.context)
    slot_dir: Path  # where the pages are written
    old: dict[str, str]  # site path -> hash of what `slot_dir` already holds (unchanged files are skipped)
    digests: bool = True  # take search digests (a build without the search stage has no use for them)
    # Called with each page's site path once it is written: a seam for whoever needs to watch or
    # pace the render loop (tests that interrupt a build midway use it to slow it down).
    on_page: Callable[[str], None] | None = None
    # The premium sections of a code page, built where the page is rendered (`premium.PageSections`);
    # a section whose id the record already has (a hand-written page's, attached at load) is skipped.
    premium: Callable[[str, str], list[Section]] | None = None
    # Per-process caches, filled as pages are rendered (each worker fills its own copy).
    ancestors: dict[str, AncestorCache] = field(default_factory=dict, init=False, repr=False)
    packer: Packer = field(default_factory=Packer, init=False, repr=False)
    memo: DigestMemo = field(default_factory=dict, init=False, repr=False)
    frames: FrameRenderer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.frames = FrameRenderer(self.template)


@dataclass
class ChunkResult:
    """What rendering one chunk produced."""

    files: dict[str, str]  # site path -> hash of every page rendered
    written: int  # how many of them changed on disk
    rows: list[StoreRow]  # the protected store rows of the code pages
    digests: list[tuple[str, int, bytes]]  # (code set, record index, public-text digest), if asked


@dataclass
class Rendered:
    """What rendering every record page produced."""

    files: dict[str, str]  # site path -> hash
    written: int
    rows: list[StoreRow]  # sorted by (code set, key); empty when they went to `rows_to`
    search_digests: dict[str, str]  # code set -> digest of its public text (empty without digests)


@dataclass
class Side:
    """Work of the build besides the record pages that needs only the model (and the slot).

    `render_pages` runs it in a render worker, started before the first chunk of pages (the
    workers take it while the pages keep the other core busy), and hands its result to `done`
    in this process; with one process, after the pages. The result travels back by pickle: keep
    it small (e.g. the paths and hashes of the files written, not their bytes).
    """

    work: Callable[[], Any]
    done: Callable[[Any], None]


def record_file(codeset: str, key: str) -> str:
    """The site path of a record's page (what `render_chunk` writes for it)."""
    return urls.file_for(urls.page_path(codeset, key))


def record_files(models: dict[str, CodeSetModel]) -> set[str]:
    """The site paths of every record page of `models`: what no other output may take."""
    return {record_file(cs, r.key) for cs, m in models.items() for r in m.records}


def _protected_row(
    cfg: SiteConfig, codeset: str, model: CodeSetModel, i: int, packer: Packer
) -> StoreRow | None:
    rec = model.records[i]  # browse pages too: their protected sections unlock like a code's
    sections = [packer(s.id, s.title, s.html) for s in rec.sections if cfg.is_protected(s.kind, s.protected)]
    return (codeset, rec.key, rec.title or rec.short_title or rec.key, sections)


def render_chunk(job: RenderJob, chunk: Chunk) -> ChunkResult:
    """Renders and writes the record pages of `chunk`."""
    cfg, models, frames, base = job.cfg, job.models, job.frames, job.base
    writer = SlotWriter(job.slot_dir, job.old)
    wall = wall_text(cfg)
    rows: list[StoreRow] = []
    digests: list[tuple[str, int, bytes]] = []
    for codeset, i in chunk:
        model = models[codeset]
        cache = job.ancestors.get(codeset)
        if cache is None:
            cache = job.ancestors[codeset] = AncestorCache(model)
        rec = model.records[i]
        own = rec.sections
        if job.premium is not None and rec.is_code:
            taken = {s.id for s in own}
            extra = [s for s in job.premium(codeset, rec.key) if s.id not in taken]
            if extra:
                rec.sections = [*own, *extra]
        page = page_context(cfg, model, i, cache, wall)
        top = {
            "canonical": page["canonical"],
            "title": (
                f"{rec.display} \u2014 {rec.title or rec.short_title}" if rec.title or rec.short_title
                else f"{page['codeset_name']}\u00ae {rec.display}" if codeset == CPT else rec.display
            ),
        }
        rel = urls.file_for(page["url"])
        writer.write(rel, frames.render(base, page, top).encode())
        if job.on_page is not None:
            job.on_page(rel)
        row = _protected_row(cfg, codeset, model, i, job.packer)
        if row is not None:
            rows.append(row)
        if job.digests:
            digests.append((codeset, i, public_digest(cfg, model, i, job.memo)))
        if rec.sections is not own:  # the page's own premium sections: packed into its row, dropped
            forget_fragments(cache, rec.sections)
            for s in rec.sections[len(own):]:
                job.packer.forget(s.html)
            rec.sections = own
    return ChunkResult(writer.new, writer.written, rows, digests)


def _chunks(models: dict[str, CodeSetModel], size: int) -> list[Chunk]:
    flat = [(cs, i) for cs, m in models.items() for i in range(len(m.records))]
    return [flat[s : s + size] for s in range(0, len(flat), size)]


# The job of the pool being run and its side work: forked workers find them here (a job holds
# the whole model, far too much to pickle per task).
_POOL_JOB: list[RenderJob] = []
_POOL_SIDE: list[Side] = []


def _render_in_worker(chunk: Chunk) -> ChunkResult:
    return render_chunk(_POOL_JOB[0], chunk)


def _side_in_worker(k: int) -> Any:
    return _POOL_SIDE[k].work()


def render_pages(
    job: RenderJob, *, jobs: int, quiet: bool, side: Sequence[Side] = (),
    rows_to: Callable[[list[StoreRow]], None] | None = None,
) -> Rendered:
    """Renders every record page of `job.models`, with `jobs` worker processes for large sites.

    `side` work runs in the same workers (see `Side`). `rows_to`, if given, takes the store rows
    of each chunk as it arrives (a writer that streams them into the store), instead of their
    being kept for `Rendered.rows`: a clean build's rows hold every protected text of the site.
    Rows of one worker arrive in the order it rendered them, so a text it packed comes before
    the rows that only refer to it.
    """
    total = sum(len(m.records) for m in job.models.values())
    chunks = _chunks(job.models, CHUNK_SIZE)
    progress = Progress("render", total, quiet=quiet)
    cpu0 = time.process_time()
    files: dict[str, str] = {}
    written = 0
    rows: list[StoreRow] = []
    found: list[tuple[str, int, bytes]] = []

    def take(result: ChunkResult) -> None:
        nonlocal written
        for rel in result.files.keys() & files.keys():
            raise BuildError(f"two pages want the same path '{rel}'")
        files.update(result.files)
        written += result.written
        if rows_to is not None:
            rows_to(result.rows)
        else:
            rows.extend(result.rows)
        found.extend(result.digests)
        progress.advance(len(result.files))

    if jobs <= 1 or total < PARALLEL_FROM:
        for chunk in chunks:
            take(render_chunk(job, chunk))
        for task in side:
            task.done(task.work())
    else:
        _POOL_JOB[:] = [job]
        _POOL_SIDE[:] = side
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                # Side work first: it is the longest single task, so it must not start last.
                pending = [(task, pool.apply_async(_side_in_worker, (k,))) for k, task in enumerate(side)]
                try:
                    for result in pool.imap_unordered(_render_in_worker, chunks):
                        take(result)
                        pending = _collect(pending, wait=False)  # a failed one stops the build now
                    _collect(pending, wait=True)
                finally:  # also on failure: whatever side work finished is handed over (to be aborted)
                    for task, res in pending:
                        if res.ready() and res.successful():
                            task.done(res.get())
        finally:
            _POOL_JOB.clear()
            _POOL_SIDE.clear()
    progress.finish(f"(parent cpu {time.process_time() - cpu0:.2f}s)")
    t_digest = time.perf_counter()
    per_cs: dict[str, Any] = {}
    for codeset, _, d in sorted(found):
        per_cs.setdefault(codeset, hashlib.blake2b(digest_size=16)).update(d)
    rows.sort(key=lambda r: (r[0], r[1]))
    say(f"digests    {time.perf_counter() - t_digest:.2f}s", quiet=quiet)
    return Rendered(files, written, rows, {cs: h.hexdigest() for cs, h in per_cs.items()})


def _collect(pending: list[tuple[Side, Any]], *, wait: bool) -> list[tuple[Side, Any]]:
    """Hands finished side work to its `done` (raising the error of failed work); returns the rest."""
    rest = []
    while pending:
        task, res = pending.pop(0)
        if wait or res.ready():
            value = res.get()  # raises the side work's own error
            task.done(value)
        else:
            rest.append((task, res))
    return rest
