"""The gate's read-only access to the protected store (written by generator/store.py and
generator/store_job.py): lookups, the bounded cache of answers, and the premium sections rendered on
demand (generator/premium/ondemand.py)."""
from __future__ import annotations

import asyncio
import json
import os
import sqlite3
from collections import OrderedDict
from pathlib import Path

from . import snapshots
from .premium.ondemand import OnDemand
from .store import PREMIUM_REF, Entry, StoredSection, json_literal, unpack_json


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class StoreReader:
    """Read-only access for the gate. Reopens by itself when a build renames a new file in."""

    JSON_CACHE_BYTES = 64 * 1024 * 1024
    MMAP_BYTES = 1024 * 1024 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._ino: int | None = None
        self._version: tuple[int, int, int] | None = None
        self._json: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._json_bytes = 0
        self._literals: dict[str, bytes] = {}
        self._batch: sqlite3.Connection | None = None  # the open read transaction of this loop turn
        self._batch_loop: asyncio.AbstractEventLoop | None = None
        self._lookup = self._LOOKUP
        # The renderer of premium sections, and the store file and snapshots it was made for.
        self._ondemand: OnDemand | None = None
        self._ondemand_for: tuple[int | None, object] = (None, None)

    def _conn(self) -> sqlite3.Connection:
        if self._batch is not None:
            if self._batch_loop is _running_loop():
                return self._batch
            self._end_batch()  # its loop stopped before ending it
        st = os.stat(self.path)
        version = (st.st_ino, st.st_mtime_ns, st.st_size)
        if version != self._version:
            # A build renamed a new store in, or changed rows in place: drop what was cached.
            self._json.clear()
            self._json_bytes = 0
            self._version = version
        if self._db is None or st.st_ino != self._ino:
            if self._db is not None:
                self._db.close()
            self._db = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, check_same_thread=False
            )
            # Reads straight from the page cache instead of a pread() per page of a lookup.
            self._db.execute(f"PRAGMA mmap_size={self.MMAP_BYTES}")
            self._ino = st.st_ino
            tables = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            self._lookup = self._LOOKUP_V3 if "sections" in tables else self._LOOKUP
        self._begin_batch(self._db)
        return self._db

    def _begin_batch(self, db: sqlite3.Connection) -> None:
        """In an event loop, the reads of one loop turn share one read transaction.

        A read outside a transaction costs SQLite 8 system calls (lock, unlock, looking for a hot
        journal) and this reader a stat of the file: a third of a first unlock's lookup. The
        transaction ends when the loop turn's ready callbacks have run, so a build that changes
        the store in place waits at most that long (and never for an idle gate).
        """
        loop = _running_loop()
        if loop is None:
            return  # no loop (CLI, tests): each read is its own transaction
        if not db.in_transaction:
            db.execute("BEGIN")
        self._batch, self._batch_loop = db, loop
        loop.call_soon(self._end_batch)

    def _end_batch(self) -> None:
        db, self._batch, self._batch_loop = self._batch, None, None
        if db is not None and db.in_transaction:
            try:
                db.execute("COMMIT")
            except sqlite3.Error:  # a read transaction that cannot end: start afresh
                self.close()

    _LOOKUP = (
        "SELECT l.id, l.title, b.html FROM codes c"
        " LEFT JOIN lists l ON l.list = c.list"
        " LEFT JOIN blobs b ON b.id = l.blob"
        " WHERE c.codeset=? AND c.key=? ORDER BY l.position"
    )
    # Stores written before schema 4 (one `sections` row per code and section, texts by hash).
    _LOOKUP_V3 = (
        "SELECT s.id, s.title, b.html FROM codes c"
        " LEFT JOIN sections s ON s.codeset = c.codeset AND s.key = c.key"
        " LEFT JOIN blobs b ON b.hash = s.hash"
        " WHERE c.codeset=? AND c.key=? ORDER BY s.position"
    )

    def entry(self, codeset: str, key: str) -> Entry | None:
        """The code's row as read (no rendering): None for an unknown code; its whole answer when
        cached or when it has no premium section to render, else the parts around them."""
        db = self._conn()
        hit = self._json.get((codeset, key))
        if hit is not None:
            self._json.move_to_end((codeset, key))
            return Entry(codeset, key, self._version, [], {}, hit)
        rows = db.execute(self._lookup, (codeset, key)).fetchall()
        if not rows:
            return None
        lit = self._literal
        parts: list[bytes] = []
        premium: dict[int, str] = {}
        for sid, title, blob in rows:
            if sid is None:  # a code without protected sections: one row of NULLs
                continue
            head = b'{"id":%s,"title":%s,"html":' % (lit(sid), lit(title))
            if blob[:1] == PREMIUM_REF:
                premium[len(parts)] = str(sid)
                parts.append(head)
            else:
                parts.append(head + unpack_json(blob) + b"}")
        whole = None if premium else b"[" + b",".join(parts) + b"]"
        return Entry(codeset, key, self._version, parts, premium, whole)

    def renderer(self) -> OnDemand:
        """What renders the premium sections of the store as last read (it reads the store's
        snapshots and code pages itself, in `OnDemand.open` or the first render). Kept while the
        store file and the snapshots it names stay (rows changed in place by an edited hand-written
        page do not cost the renderer's opening again); a render still running in the worker keeps
        the renderer it was given."""
        db = self._conn()
        row = db.execute("SELECT value FROM meta WHERE key=?", (snapshots.STORE_META,)).fetchone()
        made_for = (self._ino, None if row is None else row[0])
        if self._ondemand is None or made_for != self._ondemand_for:
            self._ondemand, self._ondemand_for = OnDemand(self.path), made_for
        return self._ondemand

    @staticmethod
    def render(entry: Entry, renderer: OnDemand) -> bytes:
        """The entry's whole answer, its premium sections rendered by `renderer` (`renderer()` when
        the entry was read): safe in a worker thread, it touches nothing else of the reader."""
        if entry.json is not None:
            return entry.json
        html = renderer.render(entry.codeset, entry.key, list(entry.premium.values()))
        parts = list(entry.parts)
        for i, sid in entry.premium.items():
            parts[i] += json_literal(html[sid]) + b"}"
        return b"[" + b",".join(parts) + b"]"

    def lookup_json(self, codeset: str, key: str) -> bytes | None:
        """The code's sections as the JSON array the gate answers with; None for an unknown code.

        Served from the bounded cache of hot codes when there; `remember` puts a code in it. A
        code with premium sections has them rendered here (and is then kept in the cache)."""
        found = self.entry(codeset, key)
        if found is None:
            return None
        if found.json is not None:
            return found.json
        data = self.render(found, self.renderer())
        self.remember(codeset, key, data, found.version)
        return data

    def _literal(self, text: str) -> bytes:
        """`text` as a JSON string; section ids and titles repeat across codes, so they are cached."""
        hit = self._literals.get(text)
        if hit is None:
            if len(self._literals) >= 10_000:
                self._literals.clear()
            hit = self._literals[text] = json.dumps(text).encode("ascii")
        return hit

    @property
    def version(self) -> object:
        """The store file's identity as of the last read: pass it back to `remember`."""
        return self._version

    def remember(self, codeset: str, key: str, data: bytes, version: object = None) -> None:
        """Caches a code's answer. `version`: the store `data` was read from (as `version` gave it
        then); when a new store came in since, the old answer is not cached."""
        if version is not None and version != self._version:
            return
        k = (codeset, key)
        if k in self._json:
            return
        self._json[k] = data
        self._json_bytes += len(data)
        while self._json_bytes > self.JSON_CACHE_BYTES and self._json:
            _, old = self._json.popitem(last=False)
            self._json_bytes -= len(old)

    def sections_json(self, codeset: str, key: str, *, keep: bool = True) -> bytes:
        """The sections as the JSON array the gate answers with (b"[]" for an unknown code).

        `keep=False` reads without caching (a code opened for the first time is rarely hot).
        """
        data = self.lookup_json(codeset, key)
        if data is None:
            return b"[]"
        if keep:
            self.remember(codeset, key, data)
        return data

    def free_pages(self) -> frozenset[tuple[str, str]]:
        """Every page whose sections open without spending a view (none in stores before the table)."""
        db = self._conn()
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name='free_pages'").fetchone():
            return frozenset()
        return frozenset((r[0], r[1]) for r in db.execute("SELECT codeset, key FROM free_pages"))

    def code_title(self, codeset: str, key: str) -> str | None:
        row = self._conn().execute(
            "SELECT title FROM codes WHERE codeset=? AND key=?", (codeset, key)
        ).fetchone()
        return None if row is None else str(row[0])

    def titles_matching(
        self, words: list[str], codesets: list[str], limit: int = 8
    ) -> list[tuple[str, str, str]]:
        """(codeset, code, title) of codes whose title contains every one of `words` (case-insensitive),
        shortest titles first: the most general codes for those words."""
        if not words or not codesets:
            return []
        where = " AND ".join(["title LIKE ? ESCAPE '\\'"] * len(words))
        marks = ",".join("?" * len(codesets))
        params = [f"%{w.replace('%', '').replace('_', '').replace(chr(92), '')}%" for w in words]
        rows = self._conn().execute(
            f"SELECT codeset, key, title FROM codes WHERE codeset IN ({marks}) AND {where}"
            " ORDER BY length(title), key LIMIT ?",
            (*codesets, *params, limit),
        ).fetchall()
        return [(str(r[0]), str(r[1]), str(r[2])) for r in rows]

    def sections(self, codeset: str, key: str) -> list[StoredSection]:
        data = self.lookup_json(codeset, key)
        return [StoredSection(s["id"], s["title"], s["html"]) for s in json.loads(data or b"[]")]

    def close(self) -> None:
        self._batch = self._batch_loop = None
        if self._ondemand is not None:
            self._ondemand.close()
            self._ondemand = None
        if self._db is not None:
            self._db.close()
            self._db = None
