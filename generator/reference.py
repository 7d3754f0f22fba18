"""Loading stage of the reference books: each imported book file read once, then from a parse cache.

A book comes from `sources` in site.yml, else from `coderef import <kind>`. Books are optional: a site without them simply has
no index pages and searches titles only.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from . import books as b
from .config import SiteConfig
from .importers import BookImporter, book_importers
from .load import code_version, stat_key
from .model import CODESET_NAMES

CACHE_VERSION = "1"


def book_source(cfg: SiteConfig, kind: str) -> Path | None:
    """The file a book is read from, or None when the project has none."""
    if kind in cfg.sources:
        return cfg.root / cfg.sources[kind]
    from .imports import imported_source

    return imported_source(cfg, kind)


@dataclass
class Books:
    """The books of one build, by kind; a missing book is simply absent."""

    cm: dict[str, b.IndexBook] = field(default_factory=dict)  # CM_INDEX, CM_EINDEX, CM_NEOPLASM, CM_DRUG
    pcs_index: b.IndexBook | None = None
    pcs_tables: b.PcsTables | None = None
    pcs_definitions: b.PcsDefinitions | None = None

    def __bool__(self) -> bool:
        return bool(self.cm or self.pcs_index or self.pcs_tables or self.pcs_definitions)


def _read_cached(cfg: SiteConfig, imp: BookImporter, path: Path) -> b.Book:
    key = hashlib.blake2b(
        f"{CACHE_VERSION}|{code_version(cfg.root)}|{imp.kind}|{stat_key(path)}".encode(), digest_size=12
    ).hexdigest()
    cache = cfg.state_dir / "cache" / f"{imp.kind}-{key}.pickle"
    if cache.exists():
        with open(cache, "rb") as f:
            found: b.Book = pickle.load(f)
        return found
    book = imp.read(path)
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob(f"{imp.kind}-*.pickle"):
        old.unlink(missing_ok=True)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(book, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cache)
    return book


# The books last loaded, by their sources' identities: a build asks twice (page sections, search).
_LOADED: dict[tuple[str, ...], Books] = {}


def load_books(cfg: SiteConfig) -> Books:
    """Every book of the enabled code sets that the project has; a malformed file raises `BuildError`
    naming `path:line` (the build then stops before touching the site)."""
    found = sources(cfg)
    ident = (code_version(cfg.root), *(f"{k}={stat_key(p)}" for k, p in found))
    hit = _LOADED.get(ident)
    if hit is not None:
        return hit
    importers = book_importers()
    out = Books()
    for kind, src in found:
        book = _read_cached(cfg, importers[kind], src)
        if isinstance(book, b.IndexBook) and kind in b.CM_BOOKS:
            out.cm[kind] = book
        elif isinstance(book, b.IndexBook):
            out.pcs_index = book
        elif isinstance(book, b.PcsTables):
            out.pcs_tables = book
        else:
            out.pcs_definitions = book
    _LOADED.clear()
    _LOADED[ident] = out
    return out


def sources(cfg: SiteConfig) -> list[tuple[str, Path]]:
    """(kind, file) of every book the build would read, for the build's fingerprint."""
    out = []
    for kind, imp in book_importers().items():
        if imp.codeset in cfg.codesets:
            src = book_source(cfg, kind)
            if src is not None:
                out.append((kind, src))
    return out


def release_note(book_release: str, tabular_release: str, codeset: str) -> str:
    """The line a page shows when the book's release differs from the code list's: both named."""
    if not tabular_release or _year(book_release) == _year(tabular_release):
        return book_release
    return f"{book_release}; codes link to the {CODESET_NAMES[codeset]} code list of {tabular_release}"


def _year(release: str) -> str:
    i = release.find(" FY")
    return release[i + 3 : i + 7] if i >= 0 else ""
