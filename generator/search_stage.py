"""The index stage: re-index the code sets whose public text changed, and publish the search files.

`search.py` builds the index of one code set; this module decides which code sets to index and
links the resulting files into the site, hashing each file once (by path, size and mtime).
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import forking, urls
from .config import SiteConfig
from .errors import BuildError
from .jobs import search as jobs_search
from .jobs.stage import listings
from .link import CodeSetModel
from .progress import say
from .publish import SlotWriter, digest
from .reference import load_books
from .render_job import Side
from .search import (
    extra_for,
    generation_digests,
    index_codesets,
    is_current,
    largest_first,
    prepare_codeset,
    searchable,
)
from .search_splice import splice
from .state import search_digests

SearchFiles = dict[str, list[tuple[str, Path]]]  # code set -> (site path, file) of its search files


@dataclass
class Indexed:
    changed: set[str]  # the code sets re-indexed
    files: SearchFiles  # every code set's files to publish (re-indexed or not)

    def site_paths(self) -> dict[str, list[str]]:
        """Per code set, the site paths of its search files (what the state remembers)."""
        return {cs: [rel for rel, _ in files] for cs, files in self.files.items()}


def index_search(
    cfg: SiteConfig, models: dict[str, CodeSetModel], changed: set[str], *, quiet: bool, jobs: int = 1,
    ahead: SearchAhead | None = None,
) -> SearchFiles:
    """Indexes the code sets in `changed` (and any without a usable index), in up to `jobs` processes,
    except those `ahead` indexed already; returns every code set's files."""
    t0 = time.perf_counter()
    # Only the books of the code sets in `models` (all of them in a full build): the fast path of
    # a hand-written CPT page indexes CPT alone, which reads no book.
    extra = ahead.extra if ahead is not None else extra_for(cfg, load_books(cfg, models.keys()))
    prepared = ahead.prepared if ahead is not None else {}
    files = index_codesets(
        cfg, models, search_dir(cfg), changed, extra, job_board=cfg.jobs.enabled, jobs=jobs, prepared=prepared
    )
    took = time.perf_counter() - t0
    done = sorted(changed - prepared.keys())
    early = f"; {', '.join(sorted(prepared))} beside the render" if prepared else ""
    say(f"search     re-indexed {', '.join(done) or 'nothing'} in {took:.2f}s{early}", quiet=quiet)
    return files


def index_edits(
    cfg: SiteConfig, models: dict[str, CodeSetModel], edited: Mapping[str, Collection[str]], *,
    hand: Iterable[tuple[str, str]], quiet: bool,
) -> tuple[SearchFiles, list[str]]:
    """The fast path's index stage: the edited records (keys per code set in `edited`) spliced into each
    code set's current index (search_splice.py), or the code set indexed again where that cannot be;
    returns every code set's files and the code sets spliced."""
    t0 = time.perf_counter()
    extra = extra_for(cfg, load_books(cfg, models.keys()), hand)
    out = search_dir(cfg)
    spliced = {}
    for cs, keys in sorted(edited.items()):
        generation = splice(cfg, models[cs], out, extra, keys)
        if generation is not None:
            spliced[cs] = generation
    files = index_codesets(cfg, models, out, set(edited), extra, job_board=cfg.jobs.enabled, prepared=spliced)
    whole = ", ".join(sorted(edited.keys() - spliced.keys())) or "nothing"
    say(f"search     spliced {', '.join(sorted(spliced)) or 'nothing'}, re-indexed {whole} "
        f"in {time.perf_counter() - t0:.2f}s", quiet=quiet)
    return files, sorted(spliced)


def search_dir(cfg: SiteConfig) -> Path:
    """The word index's cache (see search.py)."""
    return cfg.state_dir / "search"


class SearchAhead:
    """The code sets a full build will surely re-index, indexed beside its render (as render_job.Side
    tasks) instead of after it: with every code set re-indexed (a clean build) the index stage was
    the build's longest single-process wait.

    A code set is sure to be re-indexed when the build is clean, when no digest of its public text
    is on record, or when its index is missing or of other inputs; otherwise only the render's
    digest can tell, and the index stage decides after it as before.
    """

    def __init__(
        self, cfg: SiteConfig, models: dict[str, CodeSetModel], db: sqlite3.Connection, *, clean: bool,
        hand: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.extra = extra_for(cfg, load_books(cfg), hand)
        stored = search_digests(db)
        out = search_dir(cfg)
        self.codesets = largest_first(models, [
            cs for cs in searchable(cfg, models)
            if clean or cs not in stored or not is_current(out / cs, self.extra.inputs)
        ])
        self.prepared: dict[str, str] = {}  # code set -> its new generation, as the tasks finish
        self._cfg, self._models, self._out = cfg, models, out
        self._child: forking.Ahead[dict[str, str]] | None = None  # see `start`

    def start(self, jobs: int) -> None:
        """Indexes in a forked child from now on, when the build may use a second process: started
        before the books, CMS lists and theme stages, which run in this process alone, it puts the
        idle core to work (the index reads none of what they add). `sides()` then has no task and
        `finish()` takes the child's generations."""
        if jobs < 2 or not self.codesets or not forking.can_fork():
            return
        self._child = forking.Ahead(self._index_all, self._out, "search")
        self._child.start()

    def running(self) -> bool:
        """Whether the child of `start` is still indexing (it holds a render worker's place)."""
        return self._child is not None and self._child.running()

    def finish(self) -> None:
        """Waits for the child of `start` and takes its generations (indexed here if it failed)."""
        if self._child is not None:
            self.prepared.update(self._child.result())
            self._child = None

    def stop(self) -> None:
        """Ends the child of `start`, if any (the build failed before it needed the index)."""
        if self._child is not None:
            self._child.stop()
            self._child = None

    def sides(self) -> list[Side]:
        """One task indexing the code sets one after another, largest first (the longest task of
        the render): one at a time, so that only one process holds an index being built (several
        hundred MB for ICD-10-CM) while the others render pages. None when a child of `start` does."""
        if not self.codesets or self._child is not None:
            return []
        return [Side(self._index_all, self._done)]

    def _index_all(self) -> dict[str, str]:
        return {
            cs: prepare_codeset(self._cfg, self._models[cs], self._out, self.extra) for cs in self.codesets
        }

    def _done(self, generations: dict[str, str]) -> None:
        self.prepared.update(generations)


def search_stage(
    cfg: SiteConfig, models: dict[str, CodeSetModel], db: sqlite3.Connection, digests: Mapping[str, str], *,
    clean: bool, quiet: bool, jobs: int = 1, ahead: SearchAhead | None = None,
) -> Indexed:
    """The index stage of a full build: code sets whose public-text digest changed are re-indexed
    (those `ahead` indexed beside the render are only made current); the job board's bundle follows
    its listings (generator/jobs/search.py)."""
    stored = search_digests(db)
    changed = {cs for cs, d in digests.items() if clean or stored.get(cs) != d}
    if ahead is not None:
        changed |= ahead.prepared.keys()
    files = index_search(cfg, models, changed, quiet=quiet, jobs=jobs, ahead=ahead)
    forget_hashes(db, cfg, files)
    if cfg.jobs.enabled:
        files[urls.JOBS_SEARCH] = jobs_search.bundle(cfg, listings(cfg))
    return Indexed(changed, files)


def file_hashes(db: sqlite3.Connection, files: Iterable[tuple[str, Path]]) -> list[tuple[str, Path, str]]:
    """(site path, file, hash) of search files, each hashed once (by path, size and mtime) and
    remembered in the state database; the files of a new generation by the list it keeps of them
    (`search.generation_digests`), not read back."""
    files = list(files)
    paths = [str(src) for _, src in files]
    known: dict[str, tuple[str, str]] = {}
    for i in range(0, len(paths), 500):  # the files asked for, not every file ever hashed
        part = paths[i:i + 500]
        q = f"SELECT path, stat, hash FROM file_hash WHERE path IN ({','.join('?' * len(part))})"
        known.update((p, (s, h)) for p, s, h in db.execute(q, part))
    out = []
    fresh = []
    listed: dict[str, tuple[int, str]] | None = None  # what new generations list of their files
    for rel, src in files:
        st = os.stat(src)
        key = f"{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
        name = str(src)
        hit = known.get(name)
        if hit is not None and hit[0] == key:
            h = hit[1]
        else:
            if listed is None:
                listed = generation_digests(paths)
            sized = listed.get(name)
            h = sized[1] if sized is not None and sized[0] == st.st_size else digest(src.read_bytes())
            fresh.append((name, key, h))
        out.append((rel, src, h))
    db.executemany("INSERT OR REPLACE INTO file_hash VALUES (?, ?, ?)", fresh)
    return out


def forget_hashes(db: sqlite3.Connection, cfg: SiteConfig, files: SearchFiles) -> None:
    """Forgets the hashes of the earlier generations of the code sets in `files` and of the earlier
    lists of code sets (`index_codesets` deleted them): without this, every re-index of a code set
    added its ~1,000 files to the table for good, and every fast path read them all."""
    base = search_dir(cfg)
    shared = base / "shared"  # the list of code sets: the one all of `files` name is current
    # Paths as str, not Path: a code set has ~1,500 files, and pathlib's parsing was most of this.
    names = {cs: [str(src) for _, src in cs_files] for cs, cs_files in files.items()}
    current = {n for cs_names in names.values() for n in cs_names if os.path.dirname(n) == str(shared)}
    if current:
        below = "SELECT path FROM file_hash WHERE path >= ? AND path < ?"
        known = db.execute(below, (f"{shared}/", f"{shared}0")).fetchall()
        gone = [(p,) for (p,) in known if p not in current]
        db.executemany("DELETE FROM file_hash WHERE path = ?", gone)
    for cs, cs_names in names.items():
        cs_dir = f"{base}/{cs}"
        gens = {n[len(cs_dir) + 1 :].partition("/")[0] for n in cs_names if n.startswith(cs_dir + "/")}
        if len(gens) != 1:
            continue
        gen_dir = f"{cs_dir}/{gens.pop()}"
        # Every path below cs_dir, except those below gen_dir ("/" sorts right before "0").
        db.execute("DELETE FROM file_hash WHERE path >= ? AND path < ?", (f"{cs_dir}/", f"{gen_dir}/"))
        db.execute("DELETE FROM file_hash WHERE path >= ? AND path < ?", (f"{gen_dir}0", f"{cs_dir}0"))


def publish_search(
    db: sqlite3.Connection, writer: SlotWriter, taken: Mapping[str, str], files: SearchFiles
) -> None:
    """Links every search file into the slot of `writer`. A file shared by code sets (the list of
    code sets) is linked once; a path any page already took is an error."""
    for _, cs_files in sorted(files.items()):
        for rel, src, h in file_hashes(db, cs_files):
            if rel in taken or (rel in writer.new and writer.new[rel] != h):
                raise BuildError(f"search file '{rel}' collides with a page")
            if rel not in writer.new:
                writer.link(rel, src, h)
