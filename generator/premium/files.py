"""Which normalised SQLite file the build reads for each premium kind, converting the default ones once.

A kind's data comes, in this order, from the file `sources:` in site.yml names, from `coderef import`
(`<data_dir>/premium/KIND.sqlite`), else from the public-domain file shipped in `content/official/`
(`generator/official.py`). `coderef import` converts its file when it runs; the other two are
converted by the build the first time it meets them, into a cache keyed by the source file's identity
and the converters' code (`.coderef/cache/premium/`), so a fresh clone's first build pays about 5.5 s
of CPU converting (two thirds of it NCCI's two files, spread over the cores) and every later build none.
"""
from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import forking, official
from ..config import SiteConfig
from ..errors import BuildError
from .db import ImportResult, data_file
from .releases import RELEASED_KINDS, current_source, held_sources

Converter = Callable[[str, Path, Path, "str | None"], ImportResult]
CACHE_VERSION = "1"
HELD = "|held:"


@functools.cache
def converter_version(module: str) -> str:
    """Hash of a converter's code (its module and the shared table readers): a changed converter
    must invalidate its converted files, but an edit elsewhere need not cost the conversions again."""
    h = hashlib.blake2b(digest_size=12)
    base = Path(__file__).parent
    for p in sorted({Path(str(sys.modules[module].__file__)), base / "db.py", base / "tabular.py"}):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def stat_key(path: Path) -> str:
    """A file's identity: where it is, its size and its modification time."""
    st = os.stat(path)
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


def cache_dir(cfg: SiteConfig) -> Path:
    return cfg.state_dir / "cache" / "premium"


def _cached(cfg: SiteConfig, src: official.Source, convert: Converter) -> Path:
    version = converter_version(convert.__module__)
    key = hashlib.blake2b(
        f"{CACHE_VERSION}|{version}|{src.kind}|{stat_key(src.path)}|{src.release or ''}".encode(),
        digest_size=12,
    ).hexdigest()
    return cache_dir(cfg) / f"{src.kind}-{key}.sqlite"


def origin(cfg: SiteConfig, kind: str) -> official.Source | None:
    """Where `kind` comes from: `sources:` in site.yml, the imported SQLite file, the shipped file.
    NCCI and MUE hold several releases: the current one (`releases.py`)."""
    if kind in RELEASED_KINDS:
        return current_source(cfg, kind)
    if kind in cfg.sources:
        return official.Source(kind, cfg.root / cfg.sources[kind], "site.yml")
    imported = data_file(cfg, kind)
    if imported.exists():
        return official.Source(kind, imported, "imported")
    shipped = official.shipped_file(cfg, kind)
    if shipped is not None:
        return official.Source(kind, shipped, "shipped", official.shipped_release(kind))
    return None


def input_keys(cfg: SiteConfig, kinds: list[str]) -> list[str]:
    """One identity per kind that has data (the build's fingerprint): no conversion needed to tell."""
    out = []
    for kind in kinds:
        src = origin(cfg, kind)
        if src is not None:
            key = f"{kind}={src.origin}|{stat_key(src.path)}|{src.release or ''}"
            held = held_sources(cfg, kind) if kind in RELEASED_KINDS else []
            if len(held) > 1:  # the others are compared with it (release history): they count too
                key += HELD + ",".join(f"{s.origin}|{stat_key(s.path)}" for s in held if s.path != src.path)
            out.append(key)
    return out


def several_releases(identity: str) -> bool:
    """Whether an identity of `input_keys` is that of a kind holding several releases."""
    return HELD in identity


def premium_file(cfg: SiteConfig, kind: str, convert: Converter) -> Path | None:
    """The normalised file of `kind` (converted now if it is not yet), or None when there is no data."""
    src = origin(cfg, kind)
    return None if src is None else normalised(cfg, src, convert)


def normalised(cfg: SiteConfig, src: official.Source, convert: Converter) -> Path:
    """The normalised file of one source (an imported one is; others are converted once, cached)."""
    if src.origin == "imported":
        return src.path
    out = _cached(cfg, src, convert)
    if not out.exists():
        _convert(cfg, src, out, convert)
    return out


def _convert(cfg: SiteConfig, src: official.Source, out: Path, convert: Converter) -> None:
    """Converts into `out` (written beside it and renamed in), then drops older conversions of the kind."""
    if not src.path.is_file():
        raise BuildError(f"{src.path}: no such file (the {src.kind} data named by {src.origin})")
    convert(src.kind, src.path, out, src.release)
    mine = re.compile(rf"{re.escape(src.kind)}-[0-9a-f]{{24}}\.sqlite")
    for old in out.parent.glob(f"{src.kind}-*.sqlite"):
        if old != out and mine.fullmatch(old.name):
            old.unlink(missing_ok=True)


def start(cfg: SiteConfig, converters: dict[str, Converter], jobs: int) -> list[int]:
    """Starts converting every kind not converted yet in up to `jobs` forked children, so the build can
    read the code sets meanwhile; `finish` waits for them. The children take the files one at a time,
    largest first, from a shared counter: the first free takes the next (fixed shares by size kept one
    child converting the small files after the other had finished its NCCI file).
    A child that fails only costs time: `premium_file` then converts in this process, where the
    error is raised with its message."""
    todo: list[tuple[official.Source, Path]] = []
    for kind in converters:
        src = origin(cfg, kind)
        if src is None or src.origin == "imported" or not src.path.is_file():
            continue
        out = _cached(cfg, src, converters[kind])
        if not out.exists():
            todo.append((src, out))
    if not todo or jobs < 1 or not forking.can_fork():
        return []
    import multiprocessing  # here: only a build that converts needs it (10 ms of every command)

    cache_dir(cfg).mkdir(parents=True, exist_ok=True)
    todo.sort(key=lambda t: t[0].path.stat().st_size, reverse=True)
    taken = multiprocessing.get_context("fork").Value("i", 0)  # how many files the children took
    pids = []
    for _ in range(min(jobs, len(todo))):
        pid = forking.start(functools.partial(_convert_next, cfg, todo, converters, taken))
        if pid is not None:
            pids.append(pid)
    return pids


def _convert_next(cfg: SiteConfig, todo: list[tuple[official.Source, Path]], converters: dict[str, Converter],
                  taken: Any) -> None:
    """A child's loop: converts the next file no child took yet, until none is left."""
    while True:
        with taken.get_lock():
            n = taken.value
            taken.value = n + 1
        if n >= len(todo):
            return
        src, out = todo[n]
        _convert(cfg, src, out, converters[src.kind])


def finish(pids: list[int]) -> None:
    """Waits for the children of `start` (what one of them failed to convert is converted on demand)."""
    for pid in pids:
        forking.succeeded(pid)
