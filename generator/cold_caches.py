"""The caches a cold build fills in a forked child started with the CMS conversions, while it reads
the code sets: what the books add to pages (`book_sections.additions`, parsing the books, whose own
parse caches it writes too), and the earlier releases and RVU history that history compares
(`history.fill_caches`). They are made from their files alone, neither from the code sets nor the
converted CMS files, so the stages after the conversions (history, books) only read them, where they
used to parse them on one core while the other idled.

Like every helper, a child that fails only costs time: the stage that needs a cache makes it.
"""
from __future__ import annotations

import functools

from . import forking
from .book_sections import additions, missing
from .config import SiteConfig
from .history import fill_caches, history_caches


def start(cfg: SiteConfig, jobs: int) -> forking.Ahead[None] | None:
    """Starts the child when a cache is missing and the build may use a second process (None
    otherwise); `book_sections.attach_books(ahead=)` waits for it, `stop()` ends it if the build
    fails first."""
    if jobs < 2 or not forking.can_fork():
        return None
    books = missing(cfg)
    history = not all(p.exists() for p in history_caches(cfg))
    if not books and not history:
        return None
    child = forking.Ahead(functools.partial(_fill, cfg, books, history), cfg.state_dir / "cache", "cold")
    child.start()
    return child


def _fill(cfg: SiteConfig, books: list[str], history: bool) -> None:
    if history:  # first: the history stage, which comes before the books, reads them
        fill_caches(cfg)
    for codeset in books:
        additions(cfg, codeset, cfg.codesets)
