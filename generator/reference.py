"""Loading stage of the reference books: each imported book file read once, then from a parse cache.

A book comes from `sources` in site.yml, else `coderef import <kind>`, else content/official/.
Books are optional: a site without them has no index pages and searches titles and public text only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from . import books as b
from . import official
from .config import SiteConfig
from .importers import BookImporter, book_importers
from .index_layout import BASES, Layout, layout, letter_key, letter_slug, slug
from .load import code_version, stat_key
from .model import CODESET_NAMES, ICD10CM, ICD10PCS
from .pickle_cache import cache_file, cached
from .xrefs import Resolver, Target, code_key

CACHE_VERSION = "2"  # 2: an index is cached with its layout


def book_source(cfg: SiteConfig, kind: str) -> Path | None:
    """The file a book is read from (`sources:` in site.yml, else `coderef import`, else the copy the
    project ships in content/official/), or None when the project has none."""
    found = official.source(cfg, kind)
    return found.path if found is not None else None


@dataclass
class Books:
    """The books of one build, by kind; a missing book is simply absent."""

    cm: dict[str, b.IndexBook] = field(default_factory=dict)  # CM_INDEX, CM_EINDEX, CM_NEOPLASM, CM_DRUG
    pcs_index: b.IndexBook | None = None
    pcs_tables: b.PcsTables | None = None
    pcs_definitions: b.PcsDefinitions | None = None
    layouts: dict[str, Layout] = field(default_factory=dict)  # by kind: those read with their book

    def __bool__(self) -> bool:
        return bool(self.cm or self.pcs_index or self.pcs_tables or self.pcs_definitions)


# The indexes published a page per main term (index_layout.layout): their layout is cached with the book.
_LAID_OUT = (b.CM_INDEX, b.CM_EINDEX, b.PCS_INDEX)


def _read_cached(cfg: SiteConfig, imp: BookImporter, path: Path) -> tuple[b.Book, Layout | None]:
    key = hashlib.blake2b(
        f"{CACHE_VERSION}|{code_version(cfg.root)}|{imp.kind}|{stat_key(path)}".encode(), digest_size=12
    ).hexdigest()
    cache = cache_file(cfg.state_dir / "cache", imp.kind, key)
    return cached(cache, imp.kind, lambda: _read(imp, path))


def _read(imp: BookImporter, path: Path) -> tuple[b.Book, Layout | None]:
    """A book and, for an index of `_LAID_OUT`, its layout, made once for the cache: computing the
    ICD-10-CM Index's took half a second in every build that renders its pages. One pickle holds both,
    so the layout's terms are the book's own after reading."""
    book = imp.read(path)
    laid = layout(book) if isinstance(book, b.IndexBook) and book.kind in _LAID_OUT else None
    return book, laid


# The books last loaded, by their sources' identities: a build asks twice (page sections, search).
_LOADED: dict[tuple[str, ...], Books] = {}


def load_books(cfg: SiteConfig, codesets: Collection[str] | None = None) -> Books:
    """Every book of the enabled code sets (or of those of `codesets`) that the project has; a
    malformed file raises `BuildError` naming `path:line` (the build then stops before touching
    the site)."""
    found = sources(cfg, codesets)
    ident = (code_version(cfg.root), *(f"{k}={stat_key(p)}" for k, p in found))
    hit = _LOADED.get(ident)
    if hit is not None:
        return hit
    importers = book_importers()
    out = Books()
    for kind, src in found:
        book, laid = _read_cached(cfg, importers[kind], src)
        if laid is not None:
            out.layouts[kind] = laid
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


def sources(cfg: SiteConfig, codesets: Collection[str] | None = None) -> list[tuple[str, Path]]:
    """(kind, file) of every book the build would read (of `codesets` only, if given: the fast path
    of a hand-written CPT page needs none), for the build's fingerprint."""
    out = []
    for kind, imp in book_importers().items():
        if imp.codeset in cfg.codesets and (codesets is None or imp.codeset in codesets):
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


class References:
    """A build's books with what pages need of them: cross-references resolved to URLs, and each
    index's layout (pages and anchors), computed once."""

    def __init__(self, books: Books) -> None:
        self.books = books
        self._cm: Resolver | None = None
        self._pcs: Resolver | None = None
        self._layouts: dict[str, Layout] = dict(books.layouts)

    def resolver(self, kind: str) -> Resolver | None:
        if kind == b.PCS_INDEX:
            if self._pcs is None and self.books.pcs_index is not None:
                self._pcs = Resolver({b.PCS_INDEX: self.books.pcs_index})
            return self._pcs
        if self._cm is None and self.books.cm:
            self._cm = Resolver(self.books.cm)
        return self._cm

    def resolve(self, kind: str, text: str) -> Target | None:
        r = self.resolver(kind)
        return r.resolve(kind, text) if r is not None else None

    def layout(self, book: b.IndexBook) -> Layout:
        found = self._layouts.get(book.kind)
        if found is None:
            found = self._layouts[book.kind] = layout(book)
        return found

    def row_anchor(self, book: b.IndexBook, path: list[b.IndexTerm], term: b.IndexTerm) -> str:
        """A table row's anchor: its path below the table's main term ("lung--book-leaf")."""
        names = [t for t in (*path, term) if t.level > 0 or book.kind == b.CM_DRUG]
        return "--".join(slug(t.label or t.printed) for t in names) or "all"

    def table_url(self, book: b.IndexBook, path: list[b.IndexTerm]) -> str:
        base = BASES[book.kind]
        if book.kind == b.CM_NEOPLASM:
            if len(path) < 2:
                return base
            first = letter_key(path[1].label)
        else:
            first = letter_key(path[0].label)
        anchor = self.row_anchor(book, path[:-1], path[-1])
        return f"{base}{letter_slug(first)}/#{anchor}"

    def target_url(self, target: Target) -> str | None:
        """The URL a resolved cross-reference links to, or None."""
        if target.code:
            cs = ICD10PCS if target.book == b.PCS_INDEX else ICD10CM
            return f"/{cs}/{code_key(target.code)}/"
        book = self.books.pcs_index if target.book == b.PCS_INDEX else self.books.cm.get(target.book)
        if book is None:
            return None
        if target.book in (b.CM_NEOPLASM, b.CM_DRUG):
            return self.table_url(book, target.path) if target.path else BASES[target.book]
        if not target.path:
            return None
        return self.layout(book).url(target.path[-1])


_REFS: dict[int, References] = {}  # id(Books) -> References; Books objects live in _LOADED


def references(cfg: SiteConfig, codesets: Collection[str] | None = None) -> References:
    """The References of the build's books (one per loaded set of books); see `load_books`."""
    books = load_books(cfg, codesets)
    found = _REFS.get(id(books))
    if found is None or found.books is not books:
        _REFS.clear()
        found = _REFS[id(books)] = References(books)
    return found
