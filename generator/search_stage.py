"""The index stage: re-index the code sets whose public text changed, and publish the search files.

`search.py` builds the index of one code set; this module decides which code sets to index and
links the resulting files into the site, hashing each file once (by path, size and mtime).
"""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import urls
from .config import SiteConfig
from .errors import BuildError
from .jobs import search as jobs_search
from .jobs.stage import listings
from .link import CodeSetModel
from .progress import say
from .publish import SlotWriter, digest
from .search import index_codesets
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
    cfg: SiteConfig, models: dict[str, CodeSetModel], changed: set[str], *, quiet: bool
) -> SearchFiles:
    """Indexes the code sets in `changed` (and any without a usable index); returns every code set's files."""
    t0 = time.perf_counter()
    files = index_codesets(cfg, models, cfg.state_dir / "search", changed, job_board=cfg.jobs.enabled)
    took = time.perf_counter() - t0
    say(f"search     re-indexed {', '.join(sorted(changed)) or 'nothing'} in {took:.2f}s", quiet=quiet)
    return files


def search_stage(
    cfg: SiteConfig, models: dict[str, CodeSetModel], db: sqlite3.Connection, digests: Mapping[str, str], *,
    clean: bool, quiet: bool,
) -> Indexed:
    """The index stage of a full build: code sets whose public-text digest changed are re-indexed;
    the job board's bundle follows its listings (generator/jobs/search.py)."""
    stored = search_digests(db)
    changed = {cs for cs, d in digests.items() if clean or stored.get(cs) != d}
    files = index_search(cfg, models, changed, quiet=quiet)
    if cfg.jobs.enabled:
        files[urls.JOBS_SEARCH] = jobs_search.bundle(cfg, listings(cfg))
    return Indexed(changed, files)


def file_hashes(db: sqlite3.Connection, files: Iterable[tuple[str, Path]]) -> list[tuple[str, Path, str]]:
    """(site path, file, hash) of search files, each hashed once (by path, size and mtime) and
    remembered in the state database."""
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
