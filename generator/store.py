"""The protected store: the protected sections of every page, kept in one SQLite file outside `site/`.

The build is the only writer; the gate opens it read-only (`store_reader.py`). A page's list of
sections holds, for hand-written and imported sections, their HTML kept as the JSON string the
gate answers with (so an unlock joins stored bytes instead of encoding text; texts of 4 KiB and
more are zlib-compressed), and for the CMS premium sections (NCCI edits, MUEs, RVUs and payment, add-on
codes, GEMs) a reference: the reader renders them when a code is unlocked
(generator/premium/ondemand.py) from the CMS files the build read, hard-linked beside the store and
named in its meta (`snapshots`, generator/snapshots.py), linking to the code pages it lists
(`code_pages`). A clean build writes a new file and renames it over the old one; an incremental
build changes rows in one transaction. Either way a failed build leaves the previous store as it was.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import zlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

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
_RAW, _ZLIB, PREMIUM_REF = b"J", b"Z", b"P"
COMPRESS_FROM = 4096
# zlib's fastest level: on the default site's premium sections (NCCI lists, locality payment
# tables) level 1 compresses 2.7 times faster than 6 for a store about 14% larger (60 MB of JSON
# literals: 0.29 s -> 9.6 MB at level 1, 0.79 s -> 8.4 MB at level 6); decompression is as fast.
ZLIB_LEVEL = 1


def pack(html: str) -> bytes:
    return _pack(json_literal(html))


def json_literal(html: str) -> bytes:
    return json.dumps(html, ensure_ascii=False).encode("utf-8")


def _pack(literal: bytes) -> bytes:
    if len(literal) >= COMPRESS_FROM:
        return _ZLIB + zlib.compress(literal, ZLIB_LEVEL)
    return _RAW + literal


def unpack_json(blob: bytes) -> bytes:
    """The section HTML as a JSON string literal (UTF-8)."""
    tag = blob[:1]
    if tag == PREMIUM_REF:
        raise ValueError(f"premium section {blob[1:].decode()!r} is a reference: the reader renders it")
    if tag == _RAW:
        return blob[1:]
    if tag == _ZLIB:
        return zlib.decompress(blob[1:])
    # Schema 2 stores (before coderef kept JSON): zlib-compressed HTML.
    return json.dumps(zlib.decompress(blob).decode("utf-8"), ensure_ascii=False).encode("utf-8")


def html_hash(html: str) -> bytes:
    """A section text's identity in the store: the hash of its JSON literal (what `pack` stores)."""
    return _digest(json_literal(html))


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
        self._refs: dict[str, tuple[bytes, bytes]] = {}  # premium section id -> (hash, blob)

    def __call__(self, sid: str, title: str, html: str) -> Packed:
        h = self._hashes.get(html)
        literal = None
        if h is None:  # the literal is hashed and packed: the text is encoded once
            literal = json_literal(html)
            h = self._hashes[html] = _digest(literal)
        if h in self.sent:
            return (sid, title, h, None)
        self.sent.add(h)
        return (sid, title, h, _pack(literal if literal is not None else json_literal(html)))

    def ref(self, sid: str, title: str) -> Packed:
        """A premium section stored as a reference to itself (its id): the reader renders it."""
        known = self._refs.get(sid)
        if known is None:  # a few distinct ids, on most code pages: each hashed once
            blob = PREMIUM_REF + sid.encode("utf-8")
            # Never a text's hash: a text's literal starts with a quote.
            known = self._refs[sid] = (_digest(blob), blob)
        h, blob = known
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
        code_rows.sort()  # in the table's key order: SQLite appends instead of splitting pages all over
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
