"""Premium sections rendered when a page is unlocked, from the snapshots its protected store names.

The build stores a reference per premium section (generator/premium/lists.py decides which); the
store's reader (generator/store.py `StoreReader`) asks `OnDemand` for their HTML, which is the same
`PageSections` the build used to run, reading the CMS files the build read (hard-linked beside the
store, generator/snapshots.py) and linking to the code pages the store lists. One render at a time:
the gate runs them in a worker thread and the source objects are not made for concurrent use.
"""
from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from pathlib import Path

from . import PageSections


class SnapshotMismatch(Exception):
    """A referenced section that its snapshot does not make: the store and its snapshots disagree."""


class OnDemand:
    """The premium sections of one protected store (its snapshots and code pages)."""

    def __init__(self, files: Mapping[str, Path], pages: Mapping[str, Collection[str]]) -> None:
        self.files = dict(files)
        self._sections = PageSections(None, pages, self.files)
        self._lock = threading.Lock()
        self.is_open = False

    def open(self) -> None:
        """Opens the snapshot files and reads what every render shares (the codes each covers):
        the error of a missing or broken snapshot is raised here (sqlite3.Error or OSError)."""
        with self._lock:
            self._sections(_NO_CODESET, "")
            self.is_open = True

    def render(self, codeset: str, key: str, ids: Collection[str]) -> dict[str, str]:
        """Section id -> HTML of the page's sections `ids`; SnapshotMismatch if one is not made."""
        with self._lock:
            made = {s.id: s.html for s in self._sections(codeset, key, only=ids)}
            self.is_open = True
        missing = [sid for sid in ids if sid not in made]
        if missing:
            raise SnapshotMismatch(
                f"{codeset} {key}: the store lists the premium section(s) {', '.join(missing)} but the CMS "
                f"snapshots it names make none: build the site again (coderef build)"
            )
        return made

    def close(self) -> None:
        with self._lock:
            self._sections.close()
            self.is_open = False


_NO_CODESET = "-"  # a code set no page has: opening the files renders nothing
