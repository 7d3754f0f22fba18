"""Premium sections rendered when a page is unlocked, from the snapshots its protected store names.

The build stores a reference per premium section (generator/premium/lists.py decides which); the
store's reader (generator/store.py `StoreReader`) asks `OnDemand` for their HTML, which is the same
`PageSections` the build used to run, reading the CMS files the build read (hard-linked beside the
store, generator/snapshots.py) and linking to the code pages the store lists. One render at a time:
the gate runs them in a worker thread and the source objects are not made for concurrent use.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Collection
from pathlib import Path

from .. import snapshots
from . import PageSections


class SnapshotMismatch(Exception):
    """A referenced section that its snapshot does not make: the store and its snapshots disagree."""


class OnDemand:
    """The premium sections of the protected store at `store_path` (its snapshots and code pages),
    read by `open` (in the gate: a worker thread), never by the thread that made it."""

    def __init__(self, store_path: Path) -> None:
        self.store_path = store_path
        self._sections: PageSections | None = None
        self._lock = threading.Lock()
        self.is_open = False

    def open(self) -> None:
        """Reads the store's snapshots and code pages, opens the snapshot files and reads what every
        render shares: the error of a missing or broken snapshot is raised here (sqlite3.Error or
        OSError)."""
        with self._lock:
            self._open()

    def _open(self) -> PageSections:
        if self._sections is None:
            db = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True)
            try:
                row = db.execute("SELECT value FROM meta WHERE key=?", (snapshots.STORE_META,)).fetchone()
                names = json.loads(row[0]) if row is not None else {}
                pages: dict[str, set[str]] = {}
                for cs, key in db.execute("SELECT codeset, key FROM code_pages"):
                    pages.setdefault(str(cs), set()).add(str(key))
            finally:
                db.close()
            sections = PageSections(None, pages, snapshots.paths(self.store_path, names), listed=True)
            try:
                sections.warm()
            except BaseException:
                sections.close()
                raise
            self._sections = sections
            self.is_open = True
        return self._sections

    def render(self, codeset: str, key: str, ids: Collection[str]) -> dict[str, str]:
        """Section id -> HTML of the page's sections `ids`; SnapshotMismatch if one is not made."""
        with self._lock:
            made = {s.id: s.html for s in self._open()(codeset, key, only=ids)}
        missing = [sid for sid in ids if sid not in made]
        if missing:
            raise SnapshotMismatch(
                f"{codeset} {key}: the store lists the premium section(s) {', '.join(missing)} but the CMS "
                f"snapshots it names make none: build the site again (coderef build)"
            )
        return made

    def close(self) -> None:
        with self._lock:
            if self._sections is not None:
                self._sections.close()
                self._sections = None
            self.is_open = False
