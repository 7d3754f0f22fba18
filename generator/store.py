"""The protected store: the protected sections of every page, kept in one SQLite file outside `site/`.

The build is the only writer; the gate opens it read-only. A page's list of sections holds, for
hand-written and imported sections, their HTML kept as the JSON string the gate answers with (so
an unlock joins stored bytes instead of encoding text; texts of 4 KiB and more are
zlib-compressed), and for the CMS premium sections (NCCI edits, MUEs, RVUs and payment, add-on
codes, GEMs) a reference: the reader renders them when a code is unlocked
(generator/premium/ondemand.py) from the CMS files the build read, hard-linked beside the store and
named in its meta (`snapshots`, generator/snapshots.py), linking to the code pages it lists
(`code_pages`). A clean build writes a new file and renames it over the old one; an incremental
build changes rows in one transaction. Either way a failed build leaves the previous store as it was.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import sqlite3
import zlib
from collections import OrderedDict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from . import snapshots
from .premium.ondemand import OnDemand

SCHEMA_VERSION = "5"

# Section HTML is stored once per distinct text (`blobs`), and each distinct list of sections
# once (`lists`): ICD-10-CM repeats a category's notes on every code beneath it, so 98k code
# pages with protected sections have 10.7k distinct lists of 10k distinct texts. A code row
# points at its list (0: no protected sections).
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS codes(
    codeset TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL, list INTEGER NOT NULL,
    PRIMARY KEY (codeset, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lists(
    list INTEGER NOT NULL, position INTEGER NOT NULL, id TEXT NOT NULL, title TEXT NOT NULL,
    blob INTEGER NOT NULL,
    PRIMARY KEY (list, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blobs(id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, html BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS free_pages(codeset TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (codeset, key))
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS code_pages(codeset TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (codeset, key))
    WITHOUT ROWID;
"""
# `free_pages`: pages whose protected sections open without spending a view (browse pages and
# non-billable header codes: README "The gate"). Kept apart from `codes` so that a code's row can
# be replaced (hand-written pages, in place) without touching its kind.
# `code_pages`: the CPT and HCPCS code pages, which premium sections rendered by the reader link to.
# `blobs` keeps its rowid (which is its id): a WITHOUT ROWID row of more than about 1 KB spills
# into overflow pages (tripling the file for typical section sizes), a rowid table row only past
# about 4 KB.

Packed = tuple[str, str, bytes, "bytes | None"]  # (id, title, hash, packed html or None if packed before)
StoreRow = tuple[str, str, str, list[Packed]]  # (code set, key, title, protected sections) of one code page


@dataclass(frozen=True, slots=True)
class StoredSection:
    id: str
    title: str
    html: str


@dataclass(frozen=True, slots=True)
class Entry:
    """A code's row as `StoreReader.entry` read it."""

    codeset: str
    key: str
    version: object  # the store it was read from (see `StoreReader.version`)
    parts: list[bytes]  # the sections as JSON objects; a premium one without its HTML and closing brace
    premium: dict[int, str]  # index in `parts` -> id of a premium section still to render
    json: bytes | None  # the whole answer, when nothing is left to render

    @property
    def needs_render(self) -> bool:
        return self.json is None


# A blob is b"J" + the HTML as a JSON string literal, or b"Z" + that literal zlib-compressed
# (from 4 KiB on, where compression pays for its few microseconds of decompression), or b"P" + a
# premium section's id: rendered by the reader.
_RAW, _ZLIB, _REF = b"J", b"Z", b"P"
COMPRESS_FROM = 4096
# zlib's fastest level: on the default site's premium sections (NCCI lists, locality payment
# tables) level 1 compresses 2.7 times faster than 6 for a store about 14% larger (60 MB of JSON
# literals: 0.29 s -> 9.6 MB at level 1, 0.79 s -> 8.4 MB at level 6); decompression is as fast.
ZLIB_LEVEL = 1


def pack(html: str) -> bytes:
    return _pack(_literal(html))


def _literal(html: str) -> bytes:
    return json.dumps(html, ensure_ascii=False).encode("utf-8")


def _pack(literal: bytes) -> bytes:
    if len(literal) >= COMPRESS_FROM:
        return _ZLIB + zlib.compress(literal, ZLIB_LEVEL)
    return _RAW + literal


def unpack_json(blob: bytes) -> bytes:
    """The section HTML as a JSON string literal (UTF-8)."""
    tag = blob[:1]
    if tag == _REF:
        raise ValueError(f"premium section {blob[1:].decode()!r} is a reference: the reader renders it")
    if tag == _RAW:
        return blob[1:]
    if tag == _ZLIB:
        return zlib.decompress(blob[1:])
    # Schema 2 stores (before coderef kept JSON): zlib-compressed HTML.
    return json.dumps(zlib.decompress(blob).decode("utf-8"), ensure_ascii=False).encode("utf-8")


def html_hash(html: str) -> bytes:
    """A section text's identity in the store: the hash of its JSON literal (what `pack` stores)."""
    return _digest(_literal(html))


def _digest(literal: bytes) -> bytes:
    return hashlib.sha256(literal).digest()[:16]


class Packer:
    """Hashes and compresses section HTML, compressing each distinct text once per process."""

    def __init__(self) -> None:
        self.sent: set[bytes] = set()
        # Imported sections are shared objects (see load._share_sections): hash each text once.
        # Keyed on the text itself: a str caches its hash and compares by identity first, so a
        # shared text costs what an id() key did, and an equal copy finds the same entry.
        self._hashes: dict[str, bytes] = {}

    def __call__(self, sid: str, title: str, html: str) -> Packed:
        h = self._hashes.get(html)
        literal = None
        if h is None:  # the literal is hashed and packed: the text is encoded once
            literal = _literal(html)
            h = self._hashes[html] = _digest(literal)
        if h in self.sent:
            return (sid, title, h, None)
        self.sent.add(h)
        return (sid, title, h, _pack(literal if literal is not None else _literal(html)))

    def ref(self, sid: str, title: str) -> Packed:
        """A premium section stored as a reference to itself (its id): the reader renders it."""
        blob = _REF + sid.encode("utf-8")
        h = _digest(blob)  # never a text's hash: a text's literal starts with a quote
        if h in self.sent:
            return (sid, title, h, None)
        self.sent.add(h)
        return (sid, title, h, blob)

    def forget(self, html: str) -> None:
        """Lets a text go that no other page shares (a page's own premium section): its hash is no
        longer looked up by the text, which would keep every such text of the build alive."""
        self._hashes.pop(html, None)


def unpack(blob: bytes) -> str:
    return str(json.loads(unpack_json(blob)))


def packed_rows(
    path: Path, codesets: Collection[str]
) -> dict[tuple[str, str], tuple[str, list[tuple[str, str, bytes]]]]:
    """The rows of the code pages of `codesets` in a store as written: (codeset, key) -> (title,
    [(section id, title, text hash)]) in page order, no text read (a fast path keeps the texts it
    does not change, see premium_update.py)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out: dict[tuple[str, str], tuple[str, list[tuple[str, str, bytes]]]] = {}
        marks = ",".join("?" * len(codesets))
        q = ("SELECT c.codeset, c.key, c.title, l.id, l.title, b.hash FROM codes c"
             " LEFT JOIN lists l ON l.list = c.list LEFT JOIN blobs b ON b.id = l.blob"
             f" WHERE c.codeset IN ({marks}) ORDER BY c.codeset, c.key, l.position")
        for cs, key, title, sid, stitle, h in db.execute(q, list(codesets)):
            row = out.setdefault((str(cs), str(key)), (str(title), []))
            if sid is not None:
                row[1].append((str(sid), str(stitle), bytes(h)))
        return out
    finally:
        db.close()


class StoreWriter:
    """Writes code rows and protected sections inside one transaction.

    `fresh=True` builds a new file beside `path` and renames it into place on `commit()`;
    otherwise rows of the codes given to `replace_code` are replaced in the live file.
    Nothing is visible to readers before `commit()`.
    """

    def __init__(self, path: Path, *, fresh: bool) -> None:
        self.path = path
        self.fresh = fresh
        path.parent.mkdir(parents=True, exist_ok=True)
        self._target = self.fresh_path(path) if fresh else path
        if fresh and self._target.exists():
            self._target.unlink()
        self.db = sqlite3.connect(self._target, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=DELETE")
        self.db.execute("PRAGMA synchronous=OFF" if fresh else "PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self.db.execute("BEGIN IMMEDIATE")
        self._blob_ids: dict[bytes, int] = {}
        self._list_ids: dict[tuple[tuple[str, str, int], ...], int] = {}
        self._last: dict[str, int] = {}

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def replace_code(
        self, codeset: str, key: str, title: str, sections: Iterable[tuple[str, str, str]]
    ) -> None:
        """Sets a code page's row and its protected sections as (id, title, html) triples."""
        packer = Packer()
        self.replace_packed(
            codeset, key, title, [packer(sid, stitle, html) for sid, stitle, html in sections]
        )

    def replace_packed(self, codeset: str, key: str, title: str, sections: list[Packed]) -> None:
        """Like `replace_code` with section HTML already packed by a `Packer`."""
        if not self.fresh:
            self.delete_code(codeset, key)
        self.add_many([(codeset, key, title, sections)])

    def add_many(self, rows: Iterable[StoreRow]) -> None:
        """(codeset, key, title, [(id, title, hash, packed html or None)]) per code page.

        A section whose html is None was packed before by the same `Packer` (its text is in this
        write, or already in the store when writing in place).
        """
        rows = rows if isinstance(rows, list) else list(rows)
        ids = self._blob_ids
        blob_rows = []
        for _, _, _, sections in rows:  # texts first: a repeat may sort before its first packing
            for _, _, h, blob in sections:
                if blob is not None and self._known_blob(h) is None:
                    ids[h] = self._next_id("blobs", "id")
                    blob_rows.append((ids[h], h, blob))
        lists = self._list_ids
        code_rows: list[tuple[str, str, str, int]] = []
        list_rows: list[tuple[int, int, str, str, int]] = []
        for codeset, key, title, sections in rows:
            number = 0
            if sections:
                members = tuple((sid, stitle, self._blob_id(h)) for sid, stitle, h, _ in sections)
                found = lists.get(members)
                if found is None:
                    found = lists[members] = self._next_id("lists", "list")
                    list_rows.extend((found, i, sid, stitle, b) for i, (sid, stitle, b) in enumerate(members))
                number = found
            code_rows.append((codeset, key, title, number))
        self.db.executemany("INSERT INTO blobs VALUES (?, ?, ?)", blob_rows)
        self.db.executemany("INSERT INTO lists VALUES (?, ?, ?, ?, ?)", list_rows)
        self.db.executemany("INSERT INTO codes VALUES (?, ?, ?, ?)", code_rows)

    def _next_id(self, table: str, column: str) -> int:
        """The next free number of `blobs.id` or `lists.list` (read once from the store in place)."""
        last = self._last.get(table)
        if last is None:
            if self.fresh:
                last = 0
            else:  # `table` and `column` are this class's own names, never input
                last = int(self.db.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}").fetchone()[0])
        self._last[table] = last + 1
        return last + 1

    def _known_blob(self, h: bytes) -> int | None:
        """The id of a text this write has, or (writing in place) the store already has."""
        found = self._blob_ids.get(h)
        if found is None and not self.fresh:
            row = self.db.execute("SELECT id FROM blobs WHERE hash=?", (h,)).fetchone()
            if row is not None:
                found = self._blob_ids[h] = int(row[0])
        return found

    def _blob_id(self, h: bytes) -> int:
        found = self._known_blob(h)
        if found is None:
            raise ValueError(f"section text {h.hex()} was never packed into this store")
        return found

    def add_code_pages(self, pages: Iterable[tuple[str, str]]) -> None:
        """Records the code pages (codeset, key) that premium sections link to."""
        self.db.executemany("INSERT OR IGNORE INTO code_pages VALUES (?, ?)", pages)

    def mark_free(self, pages: Iterable[tuple[str, str]]) -> None:
        """Records pages (codeset, key) whose sections open without spending a view."""
        self.db.executemany("INSERT OR IGNORE INTO free_pages VALUES (?, ?)", pages)

    def delete_code(self, codeset: str, key: str) -> None:
        # Its list stays (other codes may share it); the next full build drops unused ones.
        self.db.execute("DELETE FROM codes WHERE codeset=? AND key=?", (codeset, key))

    def commit(self) -> None:
        self.finish()
        self.publish()

    def finish(self) -> None:
        """Commits the transaction. A fresh store stays beside the live one until `publish()`."""
        # An incremental build may leave a few texts and lists no code refers to any more; the
        # next full build writes a fresh store without them.
        self.set_meta("schema", SCHEMA_VERSION)
        self.db.execute("COMMIT")
        self.db.close()

    def publish(self) -> None:
        """Renames a fresh store over the live one (readers reopen it by themselves)."""
        if self.fresh:
            self.published(self.path)

    @staticmethod
    def fresh_path(path: Path) -> Path:
        """Where a fresh store is written before it replaces the one at `path`."""
        return path.with_name(path.name + ".new")

    @classmethod
    def published(cls, path: Path) -> None:
        """Renames the finished fresh store (written by another process) over the live one."""
        os.replace(cls.fresh_path(path), path)

    @classmethod
    def discard(cls, path: Path) -> None:
        """Removes an unfinished fresh store."""
        cls.fresh_path(path).unlink(missing_ok=True)

    def abort(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")
        self.db.close()
        if self.fresh and self._target.exists():
            self._target.unlink()


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
            if blob[:1] == _REF:
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
            parts[i] += _literal(html[sid]) + b"}"
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
