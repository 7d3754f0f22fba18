"""The caches a cold build fills in forked children beside its own work, so that the stages between the
CMS conversions and the render (one process, while the other core idled) only read them:

* started with the conversions, while the code sets are read: what the books add to pages
  (`book_sections.additions`, parsing the books, whose own parse caches it writes too), and the
  earlier releases and RVU history that history compares (`history.fill_caches`). They are made
  from their files alone, neither from the code sets nor from the converted CMS files. Two children
  share them: ICD-10-CM's additions (its four books: the longest) in one, the history caches and the
  other code sets' additions in the other. In one child, the build waited for it about a second
  before the books stage, with the other core idle;
* started once the conversions are done, while the premium, history, link and books stages run: the
  codes every converted CMS file covers (`premium.lists.fill_covered`), which the lists stage reads.

Like every helper, a child that fails only costs time: the stage that needs a cache makes it.
"""
from __future__ import annotations

import functools

from . import forking
from .book_sections import additions, missing
from .config import SiteConfig
from .history import fill_caches, history_caches
from .model import ICD10CM
from .premium.lists import covered_cached, fill_covered


class ColdCaches:
    """The children of one full build (none when every cache is there, or with one process)."""

    def __init__(self, cfg: SiteConfig, jobs: int) -> None:
        self._cfg = cfg
        self._fork = jobs >= 2 and forking.can_fork()
        self._cold: list[forking.Ahead[None]] = []  # `books_ready` waits for them
        self.started: list[str] = []  # the names of the children started with the conversions
        self._lists: forking.Ahead[None] | None = None
        if not self._fork:
            return
        books = missing(cfg)
        history = not all(p.exists() for p in history_caches(cfg))
        cm = [cs for cs in books if cs == ICD10CM]
        rest = [cs for cs in books if cs != ICD10CM]
        if cm:
            self._cold.append(self._start(functools.partial(_fill, cfg, cm, False), "cold-cm"))
            self.started.append("cold-cm")
        if rest or history:
            self._cold.append(self._start(functools.partial(_fill, cfg, rest, history), "cold"))
            self.started.append("cold")

    def books_ready(self) -> None:
        """Waits for the children started with the conversions (their work done here if one failed):
        the books stage reads what they made."""
        for child in self._cold:
            child.result()
        self._cold = []

    def converted(self) -> None:
        """The CMS files are converted: starts the child of the lists' cache, if it is missing."""
        if self._fork and self._lists is None and not covered_cached(self._cfg):
            self._lists = self._start(functools.partial(fill_covered, self._cfg), "covered")

    def lists_ready(self) -> None:
        """Waits for the child of `converted` (its work done here if it failed)."""
        if self._lists is not None:
            self._lists.result()
            self._lists = None

    def stop(self) -> None:
        """Ends the children still at work (the build failed before it needed them)."""
        for child in (*self._cold, self._lists):
            if child is not None:
                child.stop()

    def _start(self, work: functools.partial[None], name: str) -> forking.Ahead[None]:
        child = forking.Ahead(work, self._cfg.state_dir / "cache", name)
        child.start()
        return child


def _fill(cfg: SiteConfig, books: list[str], history: bool) -> None:
    if history:  # first: the history stage, which comes before the books, reads them
        fill_caches(cfg)
    for codeset in books:
        additions(cfg, codeset, [codeset])  # only its own books: the other child reads the others
