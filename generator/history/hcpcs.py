"""HCPCS Level II releases for history: an earlier CMS file read as a release, and a code's dates.

CMS's HCPCS file keeps terminated codes (with their termination date) for claims with earlier
dates of service, so a code that stopped between two releases held is in both: terminated in the
newer one. Only codes are compared; modifiers (two characters) are left out, since the current file
may carry none (the shipped July 2024 re-export has none: their pages come from `hcpcs-modifiers`).
"""
from __future__ import annotations

import functools
import hashlib
import sys
from datetime import date
from pathlib import Path

from .. import model
from ..errors import BuildError
from ..importers import hcpcs as importers_hcpcs
from ..importers.hcpcs import HcpcsImporter
from ..model import HCPCS, CodeRecord
from ..pickle_cache import cache_file, cached, code_of
from ..premium import db, hcpcs_codes, tabular
from ..premium.db import release_from_name
from . import held, releases
from .held import Held, PreviousRelease
from .releases import Release, quarterly

TITLE = "HCPCS Level II"


def is_compared(rec: CodeRecord) -> bool:
    """A HCPCS code (not a modifier, not a letter group)."""
    return rec.is_code and rec.parent != "modifiers"


def held_of(rec: CodeRecord) -> Held:
    """A HCPCS record as compared across releases: its title and its added and termination dates."""
    facts = dict(rec.facts)
    ended = facts.get("Termination date", "") if rec.change == "terminated" else ""
    return Held(True, rec.title, ended, facts.get("Added", ""))


def release_named(text: str, path: Path) -> Release:
    """The quarterly release a release text or file name names ("2020-01-01", "HCPC2020_ANWEB…")."""
    found = release_from_name(text)
    if not found:
        raise BuildError(
            f"{path}: cannot tell which HCPCS release this file is: its name carries no date such as "
            "2020-01 or HCPC2020 (name it after its release, or give the release in sources: … with "
            "the file's date)"
        )
    return quarterly(HCPCS, TITLE, date.fromisoformat(found))


def earlier_hcpcs(path: Path, release: str | None, cache_dir: Path) -> PreviousRelease:
    """The earlier HCPCS release held in `path` (kind `hcpcs-earlier`), through a pickle cache in
    `cache_dir`: parsing CMS's whole file takes half a second, which the fast path of one edited
    HCPCS page would pay every time."""
    st = path.stat()
    return _cached(str(path.resolve()), st.st_size, st.st_mtime_ns, release or path.name, cache_dir)


def _code_version() -> str:
    """The code the parsed release depends on: a change there must not read a stale cache."""
    return code_of(sys.modules[__name__], held, releases, importers_hcpcs, hcpcs_codes, tabular, db, model)


def earlier_cache(path: Path, release: str | None, cache_dir: Path) -> Path:
    """The cache file `earlier_hcpcs` reads, for a build to tell whether it is cold."""
    st = path.stat()
    return _cache_file(str(path.resolve()), st.st_size, st.st_mtime_ns, release or path.name, cache_dir)


def _cache_file(path_str: str, size: int, mtime_ns: int, named: str, cache_dir: Path) -> Path:
    key = hashlib.blake2b(f"{path_str}|{size}|{mtime_ns}|{named}|{_code_version()}".encode(), digest_size=12)
    return cache_file(cache_dir, "hcpcs-earlier", key.hexdigest())


@functools.lru_cache(maxsize=2)
def _cached(path_str: str, size: int, mtime_ns: int, named: str, cache_dir: Path) -> PreviousRelease:
    """Read once per build process (the load stage, the change pages and the facts all ask)."""
    cache = _cache_file(path_str, size, mtime_ns, named, cache_dir)
    return cached(cache, "hcpcs-earlier", lambda: _read(Path(path_str), named))


def _read(path: Path, named: str) -> PreviousRelease:
    release = release_named(named, path)
    codes = {rec.key: held_of(rec) for rec in HcpcsImporter().read(path) if is_compared(rec)}
    if not codes:
        raise BuildError(f"{path}: no HCPCS Level II codes in the file (modifiers only?)")
    return PreviousRelease(release, codes, path)
