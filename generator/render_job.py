"""The render stage: record pages rendered into a slot (in forked workers), with their store rows.

A `RenderJob` says what to render with and where to write; `render_chunk(job, chunk)` renders a
list of records and returns a `ChunkResult`; `render_pages(job, ...)` renders every record of
the job's models, in parallel worker processes that inherit the job through fork.
"""
from __future__ import annotations

import hashlib
import multiprocessing
import time
from collections.abc import Callable
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
    rows: list[StoreRow]  # sorted by (code set, key)
    search_digests: dict[str, str]  # code set -> digest of its public text (empty without digests)


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


# The job of the pool being run: forked workers find it here (a job holds the whole model, far
# too much to pickle per task).
_POOL_JOB: list[RenderJob] = []


def _render_in_worker(chunk: Chunk) -> ChunkResult:
    return render_chunk(_POOL_JOB[0], chunk)


def render_pages(job: RenderJob, *, jobs: int, quiet: bool) -> Rendered:
    """Renders every record page of `job.models`, with `jobs` worker processes for large sites."""
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
        rows.extend(result.rows)
        found.extend(result.digests)
        progress.advance(len(result.files))

    if jobs <= 1 or total < PARALLEL_FROM:
        for chunk in chunks:
            take(render_chunk(job, chunk))
    else:
        _POOL_JOB[:] = [job]
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                for result in pool.imap_unordered(_render_in_worker, chunks):
                    take(result)
        finally:
            _POOL_JOB.clear()
    progress.finish(f"(parent cpu {time.process_time() - cpu0:.2f}s)")
    t_digest = time.perf_counter()
    per_cs: dict[str, Any] = {}
    for codeset, _, d in sorted(found):
        per_cs.setdefault(codeset, hashlib.blake2b(digest_size=16)).update(d)
    rows.sort(key=lambda r: (r[0], r[1]))
    say(f"digests    {time.perf_counter() - t_digest:.2f}s", quiet=quiet)
    return Rendered(files, written, rows, {cs: h.hexdigest() for cs, h in per_cs.items()})
