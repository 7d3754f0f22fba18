"""The render stage: record pages rendered into a slot (in forked workers), with their store rows.

A `RenderJob` says what to render with and where to write; `render_chunk(job, chunk)` renders a
list of records and returns a `ChunkResult`; `render_pages(job, ...)` renders every record of
the job's models, in parallel worker processes that inherit the job through fork. The same
workers also run the build's other work that needs only the model (`Side`: the site's other
files, the data stages), so that no core idles while one process does it alone.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jinja2

from . import forking, urls
from .config import SiteConfig
from .errors import BuildError
from .fragments import AncestorCache, as_markup, escape
from .frames import FrameRenderer
from .identity import DigestMemo, public_digest
from .link import CodeSetModel
from .model import CPT, CodeRecord, Section
from .premium.lists import is_reference
from .progress import Progress, say
from .publish import SlotWriter
from .render import Ctx, forget_fragments, page_context, wall_text
from .store import Packer, StoreRow
from .workers import run_shared

Chunk = list[tuple[str, int]]  # (code set, record index) pairs
CHUNK_SIZE = 2000
PARALLEL_FROM = 5000  # fewer pages render faster in this process than forking workers costs
# A render worker whose own pages pass this bound (MiB) ends after its task and a fresh one is forked
# (workers.py): a worker that wrote the search index or the site's other files had copied most of
# the model, and kept that copy beside the parent's until the render ended.
RETIRE_MIB = 160


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
    # The premium sections of a code page (`premium.lists.SectionLists`: placeholders the gate
    # renders, stored as references); a section whose id the record already has (a hand-written
    # page's, attached at load) is skipped.
    premium: Callable[[str, str], list[Section]] | None = None
    # Code sets whose pages cost most to render (their premium sections), rendered first: with
    # them last, the last chunk of a process could take seconds while the others have stopped.
    heavy: tuple[str, ...] = ()
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

    `render_pages` runs it among the render tasks, before the first chunk of pages (a worker
    takes it while the pages keep the other cores busy), and hands its result to `done` in this
    process; with one process, after the pages. The result may travel back by pickle: keep it
    small (e.g. the paths and hashes of the files written, not their bytes).
    """

    work: Callable[[], Any]
    done: Callable[[Any], None]


def record_file(codeset: str, key: str) -> str:
    """The site path of a record's page (what `render_chunk` writes for it)."""
    return urls.file_for(urls.page_path(codeset, key))


class RecordFiles:
    """The site paths of every record page of `models` (what no other output may take), as a
    container: a path is asked of the code set's index instead of making all ~200k paths (the
    other writers of a build ask about a few thousand)."""

    def __init__(self, models: dict[str, CodeSetModel]) -> None:
        self.models = models

    def __contains__(self, rel: object) -> bool:
        if not isinstance(rel, str):
            return False
        codeset, _, rest = rel.partition("/")
        model = self.models.get(codeset)
        seg = rest.removesuffix("/index.html")
        if model is None or seg == rest:
            return False
        key = unquote(seg)  # what `urls.page_path` quoted back (the check below makes it exact)
        return key in model.index and record_file(codeset, key) == rel


def _protected_row(
    cfg: SiteConfig, codeset: str, model: CodeSetModel, i: int, packer: Packer
) -> StoreRow | None:
    rec = model.records[i]  # browse pages too: their protected sections unlock like a code's
    protected = cfg.is_protected
    sections = [
        packer.ref(s.id, s.title) if is_reference(s) else packer(s.id, s.title, s.html)
        for s in rec.sections if protected(s.kind, s.protected)
    ]
    return (codeset, rec.key, rec.title or rec.short_title or rec.key, sections)


def _page_title(rec: CodeRecord, codeset: str, page: Ctx, cache: AncestorCache, i: int) -> str:
    """The page's <title>: "S72.001A \u2014 Fracture of ...". Most pages' is made of the escaped code
    and title the cache holds already (escaping is per character: joined escaped parts are the
    escaped whole), as Markup: the frame would otherwise escape it and write its dash as an entity,
    a regular-expression pass per page."""
    title = rec.title or rec.short_title
    if not title:
        return f"{page['codeset_name']}\u00ae {rec.display}" if codeset == CPT else rec.display
    _, display_html, title_html = cache.ref(i)
    return as_markup(f"{display_html} &#8212; {title_html if rec.title else escape(title)}")


def render_chunk(job: RenderJob, chunk: Chunk) -> ChunkResult:
    """Renders and writes the record pages of `chunk`."""
    cfg, models, frames, base = job.cfg, job.models, job.frames, job.base
    writer = SlotWriter(job.slot_dir, job.old)
    wall = wall_text(cfg)
    # A chunk is a run of neighbouring records: the ancestors and section fragments of earlier
    # chunks are hardly ever asked again, and kept they would grow to ~80 MB per process.
    job.ancestors.clear()
    rows: list[StoreRow] = []
    digests: list[tuple[str, int, bytes]] = []
    premium, packer, write, render = job.premium, job.packer, writer.write, frames.render
    for codeset, i in chunk:
        model = models[codeset]
        cache = job.ancestors.get(codeset)
        if cache is None:
            cache = job.ancestors[codeset] = AncestorCache(model)
        rec = model.records[i]
        own = rec.sections
        if premium is not None and rec.is_code:
            extra = premium(codeset, rec.key)
            if extra and own:
                taken = {s.id for s in own}
                extra = [s for s in extra if s.id not in taken]
            if extra:
                rec.sections = [*own, *extra]
        page = page_context(cfg, model, i, cache, wall)
        top = {"canonical": page["canonical"], "title": _page_title(rec, codeset, page, cache, i)}
        rel = urls.file_for(page["url"])
        write(rel, render(base, page, top).encode())
        if job.on_page is not None:
            job.on_page(rel)
        row = _protected_row(cfg, codeset, model, i, packer)
        if row is not None:
            rows.append(row)
        if job.digests:
            digests.append((codeset, i, public_digest(cfg, model, i, job.memo)))
        if rec.sections is not own:  # the page's own premium sections: packed into its row, dropped
            added = rec.sections[len(own):]
            forget_fragments(cache, added)
            for s in added:
                if s.html:
                    packer.forget(s.html)
            rec.sections = own
    return ChunkResult(writer.new, writer.written, rows, digests)


def _chunks(models: dict[str, CodeSetModel], size: int, heavy: tuple[str, ...] = ()) -> list[Chunk]:
    order = [cs for cs in heavy if cs in models] + [cs for cs in models if cs not in heavy]
    flat = [(cs, i) for cs in order for i in range(len(models[cs].records))]
    return [flat[s : s + size] for s in range(0, len(flat), size)]


def render_pages(
    job: RenderJob, *, jobs: int, quiet: bool, side: Sequence[Side] = (),
    rows_to: Callable[[list[StoreRow]], None] | None = None, held: Callable[[], bool] | None = None,
) -> Rendered:
    """Renders every record page of `job.models`, in `jobs` processes for large sites (this one
    and `jobs - 1` forked workers, `workers.run_shared`).

    `side` work runs among the pages (see `Side`). `rows_to`, if given, takes the store rows
    of each chunk as it arrives (a writer that streams them into the store), instead of their
    being kept for `Rendered.rows`: a clean build's rows hold every protected text of the site.
    `held`: while True, another child of the build holds one worker's place (`workers.run_shared`).
    Rows of one worker arrive in the order it rendered them, so a text it packed comes before
    the rows that only refer to it.
    """
    total = sum(len(m.records) for m in job.models.values())
    chunks = _chunks(job.models, CHUNK_SIZE, job.heavy)
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

    if jobs <= 1 or total < PARALLEL_FROM or not forking.can_fork():
        for chunk in chunks:
            take(render_chunk(job, chunk))
        for task in side:
            task.done(task.work())
    else:
        tasks: list[Callable[[], Any]] = [task.work for task in side]  # first: the longest tasks
        tasks += [functools.partial(render_chunk, job, chunk) for chunk in chunks]

        def handle(k: int, result: Any) -> None:
            if k < len(side):
                side[k].done(result)
            else:
                take(result)

        # This process renders too: see workers.py.
        run_shared(tasks, jobs - 1, handle, first=len(side), retire_mib=RETIRE_MIB, held=held)
    progress.finish(f"(parent cpu {time.process_time() - cpu0:.2f}s)")
    t_digest = time.perf_counter()
    per_cs: dict[str, Any] = {}
    for codeset, _, d in sorted(found):
        per_cs.setdefault(codeset, hashlib.blake2b(digest_size=16)).update(d)
    rows.sort(key=lambda r: (r[0], r[1]))
    say(f"digests    {time.perf_counter() - t_digest:.2f}s", quiet=quiet)
    return Rendered(files, written, rows, {cs: h.hexdigest() for cs, h in per_cs.items()})

