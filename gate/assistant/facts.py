"""The one reader of CasePilot's facts: `var/assistant.sqlite` and the CMS snapshots it names.

The build (generator/assistant_facts.py) is the only writer. The premium snapshots are read
through the same source classes that rendered the page sections (generator/premium), so an answer
states what its page states. A build that publishes a new facts file is picked up on the next
question (the file's identity is checked on every `current()`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from generator.assistant_facts import SCHEMA_VERSION, bare
from generator.history.releases import Release
from generator.premium import Sources, aoc, gems, mue, ncci, payment
from generator.snapshots import SNAPSHOT_DIR


class FactsMissing(Exception):
    """No facts file yet (the site was never built with CasePilot enabled)."""


@dataclass(frozen=True, slots=True)
class CodeFact:
    codeset: str
    key: str
    title: str
    short_title: str
    kind: str
    billable: bool | None
    parent: str | None
    source: str
    facts: list[tuple[str, str]]
    notes: list[tuple[str, str]]  # (section kind, plain text), in page order

    @property
    def is_code(self) -> bool:
        return self.kind == "code"


@dataclass(frozen=True, slots=True)
class Lcd:
    id: str
    type: str
    title: str
    contractor: str
    effective: str
    retired: str
    version: str
    updated: str
    url: str


@dataclass(frozen=True, slots=True)
class PassageHit:
    id: int  # the passage's row (`Facts.matches` counts the terms it holds)
    slug: str
    anchor: str
    heading: str
    text: str
    guide_title: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """What one release did to one code (a row of the facts' `changes`)."""

    codeset: str
    key: str
    release: str  # "FY2026"
    previous: str  # the release it is compared with ("FY2025")
    kind: str  # "new", "revised", "deleted", "status" or "terminated" (HCPCS)
    old: str  # revised: the old title; deleted: its last title; status: "billable" or "header";
    # terminated: its termination date
    new: str  # new: its title; revised: the new title; status: "billable" or "header"
    successors: tuple[tuple[str, str], ...] = ()  # deleted: (code, title) the release added in its place
    near: tuple[str, str] | None = None  # deleted: the nearest code of today
    added: str = ""  # new (HCPCS): the date CMS's file says it was added
    ended: str = ""  # new (HCPCS): the termination date CMS's file gives it, when terminated


_LCD_COLUMNS = "l.id, l.type, l.title, l.contractor, l.effective, l.retired, l.version, l.updated, l.url"


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    db.execute("PRAGMA query_only=1")
    return db


@dataclass
class Facts:
    """One published facts file, opened: plain queries plus the premium source objects."""

    path: Path
    db: sqlite3.Connection
    ident: tuple[int, int]
    codesets: dict[str, str] = field(default_factory=dict)
    releases: dict[str, str] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # kind -> (release, file)
    ptp: list[ncci.PtpSource] = field(default_factory=list)
    mue: list[mue.MueSource] = field(default_factory=list)
    aoc: aoc.AocSource | None = None
    rvu: payment.RvuSource | None = None
    gems: list[gems.GemSource] = field(default_factory=list)
    icd9: dict[str, sqlite3.Connection] = field(default_factory=dict)  # code set -> descriptions
    held: dict[str, list[Release]] = field(default_factory=dict)  # set -> its releases, oldest first
    _extra: list[sqlite3.Connection] = field(default_factory=list)

    @classmethod
    def open(cls, path: Path) -> Facts:
        st = os.stat(path)
        db = _open(path)
        f = cls(path, db, (st.st_ino, st.st_mtime_ns))
        meta = dict(db.execute("SELECT key, value FROM meta"))
        if meta.get("schema") != SCHEMA_VERSION:
            db.close()
            raise FactsMissing(
                f"{path} was written by another version of coderef (facts schema {meta.get('schema')}, this "
                f"gate reads {SCHEMA_VERSION}): build the site again (coderef build)"
            )
        f.codesets = json.loads(meta.get("codesets", "{}"))
        f.releases = json.loads(meta.get("releases", "{}"))
        f.sources = {k: (r, s) for k, r, s in db.execute("SELECT kind, release, source_file FROM sources")}
        for cs, name, label, start, end, held_from in db.execute(
            "SELECT codeset, name, label, start, end, held_from FROM releases ORDER BY codeset, position"
        ):
            f.held.setdefault(str(cs), []).append(Release(
                str(cs), str(name), str(label), date.fromisoformat(start),
                date.fromisoformat(end) if end else None,
                date.fromisoformat(held_from) if held_from else None,
            ))
        snaps: dict[str, sqlite3.Connection] = {}
        for kind, name in db.execute("SELECT kind, file FROM snapshots"):
            conn = _open(path.parent / SNAPSHOT_DIR / name)
            f._extra.append(conn)
            snaps[kind] = conn
        src = Sources(snaps)
        f.ptp, f.mue, f.aoc, f.rvu, f.gems, f.icd9 = src.ptp, src.mue, src.aoc, src.rvu, src.gems, src.descs
        return f

    def close(self) -> None:
        for conn in [self.db, *self._extra]:
            conn.close()

    # -- codes ---------------------------------------------------------------------------------
    def code(self, codeset: str, key: str) -> CodeFact | None:
        row = self.db.execute(
            "SELECT codeset, key, title, short_title, kind, billable, parent, source, facts, notes FROM codes"
            " WHERE codeset=? AND key=?",
            (codeset, key),
        ).fetchone()
        return None if row is None else self._code(row)

    def _code(self, row: tuple[Any, ...]) -> CodeFact:
        notes = (
            [
                (str(k), str(t))
                for k, t in self.db.execute(
                    ("SELECT n.kind, t.text FROM notes n JOIN texts t ON t.id = n.text WHERE n.list=? ORDER "
                     "BY n.position"),
                    (row[9],),
                )
            ]
            if row[9]
            else []
        )
        return CodeFact(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            None if row[5] is None else bool(row[5]),
            row[6],
            row[7],
            [(str(a), str(b)) for a, b in json.loads(row[8])],
            notes,
        )

    def lookup(self, token: str) -> list[CodeFact]:
        """Every code page whose code, written without dots and in any case, is `token`."""
        rows = self.db.execute(
            "SELECT codeset, key, title, short_title, kind, billable, parent, source, facts, notes FROM codes"
            " WHERE bare=?",
            (bare(token),),
        ).fetchall()
        return [self._code(r) for r in rows]

    def children(self, codeset: str, key: str, limit: int = 12) -> list[tuple[str, str, bool | None]]:
        return [
            (str(k), str(t), None if b is None else bool(b))
            for k, t, b in self.db.execute(
                "SELECT key, title, billable FROM codes WHERE codeset=? AND parent=? ORDER BY key LIMIT ?",
                (codeset, key, limit),
            )
        ]

    def search_codes(
        self, match: str, codesets: tuple[str, ...], limit: int = 8, pool: int = 60
    ) -> list[tuple[str, str, str]]:
        """(codeset, key, title) for an FTS5 match expression: the `pool` best by BM25, then those whose title
        has every searched word first and, among them, the shortest (most general) titles."""
        marks = ",".join("?" * len(codesets))
        rows = self.db.execute(
            f"SELECT f.codeset, f.key, c.title, f.words FROM code_fts f"
            f" JOIN codes c ON c.codeset = f.codeset AND c.key = f.key"
            f" WHERE code_fts MATCH ? AND f.codeset IN ({marks}) ORDER BY bm25(code_fts) LIMIT ?",
            (match, *codesets, pool),
        ).fetchall()
        parts = match.replace(" OR ", " AND ").split(" AND ")
        words = list(dict.fromkeys(w.strip('()"').lower()[:5] for w in parts))

        def rank(row: tuple[Any, ...]) -> tuple[int, int]:
            title = str(row[2]).lower()
            return (sum(1 for w in words if w not in title), len(title))

        return [(str(a), str(b), str(c)) for a, b, c, _ in sorted(rows, key=rank)[:limit]]

    # -- releases and history -----------------------------------------------------------------
    def changes(self, token: str, codesets: tuple[str, ...] | None = None) -> list[Change]:
        """What the releases held did to the code written `token` (any case, dots or not), oldest first."""
        rows = self.db.execute(
            "SELECT codeset, key, release, previous, kind, old, new, instead FROM changes WHERE bare=?"
            " ORDER BY rowid",
            (bare(token),),
        ).fetchall()
        out = []
        for cs, key, release, previous, kind, old, new, instead in rows:
            if codesets is not None and cs not in codesets:
                continue
            extra = json.loads(instead) if instead else {}
            out.append(Change(
                str(cs), str(key), str(release), str(previous), str(kind), str(old), str(new),
                tuple((str(k), str(t)) for k, t in extra.get("successors", [])),
                tuple(extra["near"]) if extra.get("near") else None,
                str(extra.get("added", "")), str(extra.get("ended", "")),
            ))
        order = {cs: [r.name for r in rs] for cs, rs in self.held.items()}
        return sorted(out, key=lambda c: order.get(c.codeset, []).index(c.release)
                      if c.release in order.get(c.codeset, []) else -1)

    def change_counts(self, codeset: str, release: str) -> dict[str, int]:
        """How many codes `release` added, revised, deleted and changed the status of (empty: none held)."""
        rows = self.db.execute(
            "SELECT kind, count(*) FROM changes WHERE codeset=? AND release=? GROUP BY kind",
            (codeset, release),
        ).fetchall()
        return {str(k): int(n) for k, n in rows}

    def changed_in(self, codeset: str, release: str, kind: str, limit: int) -> list[tuple[str, str]]:
        """(code, title) of the first `limit` codes `release` changed in `kind`, in official order."""
        rows = self.db.execute(
            "SELECT key, CASE WHEN kind='deleted' THEN old ELSE new END FROM changes"
            " WHERE codeset=? AND release=? AND kind=? ORDER BY rowid LIMIT ?",
            (codeset, release, kind, limit),
        ).fetchall()
        return [(str(k), str(t)) for k, t in rows]

    # -- modifiers, coverage, guides -------------------------------------------------------------
    def modifier(self, code: str) -> tuple[str, str, list[tuple[str, str]]] | None:
        row = self.db.execute(
            "SELECT description, short, facts FROM modifiers WHERE code=?", (code.upper(),)
        ).fetchone()
        return (
            None
            if row is None
            else (str(row[0]), str(row[1]), [(str(a), str(b)) for a, b in json.loads(row[2])])
        )

    def has_modifiers(self) -> bool:
        return self.db.execute("SELECT 1 FROM modifiers LIMIT 1").fetchone() is not None

    def lcds(self, match: str, limit: int = 8) -> list[Lcd]:
        rows = self.db.execute(
            f"SELECT {_LCD_COLUMNS} FROM lcd_fts f JOIN lcd l ON l.rowid = f.rowid WHERE lcd_fts MATCH ?"
            " ORDER BY l.retired != '', bm25(lcd_fts), l.type, l.id LIMIT ?",
            (match, limit),
        ).fetchall()
        return [Lcd(*map(str, r)) for r in rows]

    def lcd(self, doc_id: str) -> list[Lcd]:
        rows = self.db.execute(f"SELECT {_LCD_COLUMNS} FROM lcd l WHERE l.id=?", (doc_id.upper(),)).fetchall()
        return [Lcd(*map(str, r)) for r in rows]

    def has_lcds(self) -> bool:
        return self.db.execute("SELECT 1 FROM lcd LIMIT 1").fetchone() is not None

    def passages(self, match: str, limit: int = 3) -> list[PassageHit]:
        rows = self.db.execute(
            "SELECT p.id, p.slug, p.anchor, p.heading, p.text, g.title, g.sources FROM passage_fts f"
            " JOIN passages p ON p.id = f.rowid JOIN guides g ON g.slug = p.slug"
            " WHERE passage_fts MATCH ? ORDER BY bm25(passage_fts, 8.0, 4.0, 1.0) LIMIT ?",
            (match, limit),
        ).fetchall()
        return [
            PassageHit(int(i), str(a), str(b), str(c), str(d), str(e), tuple(json.loads(s)))
            for i, a, b, c, d, e, s in rows
        ]

    def matches(self, passage: int, terms: list[str]) -> int:
        """How many of `terms` (FTS5 strings, e.g. '"denial"') passage `passage` holds."""
        return sum(
            self.db.execute("SELECT 1 FROM passage_fts WHERE passage_fts MATCH ? AND rowid=?", (t, passage))
            .fetchone()
            is not None
            for t in terms
        )

    def guide(self, slug: str) -> tuple[str, tuple[str, ...]] | None:
        row = self.db.execute("SELECT title, sources FROM guides WHERE slug=?", (slug,)).fetchone()
        return None if row is None else (str(row[0]), tuple(json.loads(row[1])))

    def from_icd9(self, code: str) -> list[tuple[str, str, int, int, int, int]]:
        """(GEM kind, ICD-10 code without dots, approximate, combination, scenario, choice list)
        for an ICD-9 code."""
        return [
            (str(k), str(c), int(a), int(co), int(s), int(ch))
            for k, c, a, co, s, ch in self.db.execute(
                "SELECT kind, icd10, approx, combo, scenario, choice FROM gem_by_icd9 WHERE icd9=?"
                " ORDER BY kind, scenario, choice, icd10",
                (code,),
            )
        ]

    def icd9_description(self, codeset: str, code: str) -> str:
        db = self.icd9.get(codeset)
        if db is None:
            return ""
        row = db.execute("SELECT description FROM icd9 WHERE code=?", (code,)).fetchone()
        return "" if row is None else str(row[0])


class FactsReader:
    """Hands out the current `Facts`, reopening when a build has published a new file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._facts: Facts | None = None
        self._lock = threading.Lock()

    def current(self) -> Facts:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise FactsMissing(f"{self.path} does not exist: build the site (coderef build) first") from None
        f = self._facts
        if f is not None and f.ident == (st.st_ino, st.st_mtime_ns):
            return f
        with self._lock:
            f = self._facts
            if f is None or f.ident != (st.st_ino, st.st_mtime_ns):
                old, self._facts = f, Facts.open(self.path)
                f = self._facts
                del old  # a question still using the old facts keeps its connections until it ends
        return f

    def close(self) -> None:
        if self._facts is not None:
            self._facts.close()
            self._facts = None
