"""Build stage: CasePilot's facts (`var/assistant.sqlite`), the one writer of what the gate answers from.

Written beside the protected store from the same build input, and published with it (see
`FactsJob.publish`), so an answer can never disagree with the page it cites:

- `codes`: every code page's title, status, facts and release, with its note sections (Excludes1,
  Code first, 7th character…) kept once per distinct text, as in the store;
- `code_fts`: the public words of code pages (titles, inclusion terms), FTS5 with BM25;
- `guides` and `passages` (+ `passage_fts`): the guides of `content/guides/`, one passage per heading;
- `modifiers` and `lcd` (+ `lcd_fts`): the imported HCPCS modifiers and the LCD/Article list;
- `releases` and `changes`: every release held per code set and CMS data set (as `coderef releases`
  lists them) and what each release changed (as the history blocks and change pages show it);
- `snapshots`: the CMS premium files (NCCI, MUE, AOC, RVU/GPCI, GEMs) the pages' sections come from,
  hard-linked under `var/assistant.d/` (generator/snapshots.py, the same links the protected store
  names) so a later `coderef import` cannot change what this build answers; the gate reads them
  through the same source classes as the page sections.
"""

from __future__ import annotations

import html
import itertools
import json
import operator
import os
import re
import shutil
import sqlite3
import time
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

from . import content_cache, snapshots
from .config import SiteConfig
from .errors import BuildError, Problems
from .guides import Guide
from .history.assistant_rows import change_rows, release_rows
from .history.sections import HISTORY
from .link import CodeSetModel
from .model import CODE, CODESET_NAMES, Section
from .premium import PREMIUM_KINDS, normalised_file
from .premium.db import connect, read_meta

SCHEMA_VERSION = "2"
FTS_HASH_SIZE = 256 << 20  # bytes: the code words' index takes ~10 MB
NOTE_KINDS = (
    "notes",
    "inclusion-terms",
    "includes",
    "excludes1",
    "excludes2",
    "code-first",
    "use-additional-code",
    "code-also",
    "seventh-character",
    HISTORY,  # stored as the block's plain words: the release shown, new/revised/status events, releases held
)
NOTE_KIND_SET = frozenset(NOTE_KINDS)
COPIED_KINDS = ("hcpcs-modifiers", "lcd")  # small: copied in, and indexed for words

SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE codes(codeset TEXT NOT NULL, key TEXT NOT NULL, bare TEXT NOT NULL, title TEXT NOT NULL,
  short_title TEXT NOT NULL, kind TEXT NOT NULL, billable INTEGER, parent TEXT, source TEXT NOT NULL,
  facts TEXT NOT NULL, notes INTEGER NOT NULL, PRIMARY KEY (codeset, key)) WITHOUT ROWID;
CREATE TABLE texts(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE notes(list INTEGER NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL,
  text INTEGER NOT NULL,
  PRIMARY KEY (list, position)) WITHOUT ROWID;
CREATE VIRTUAL TABLE code_fts USING fts5(words, codeset UNINDEXED, key UNINDEXED,
  tokenize='porter unicode61');
CREATE TABLE guides(slug TEXT PRIMARY KEY, title TEXT NOT NULL, summary TEXT NOT NULL, sources TEXT NOT NULL,
  topics TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE passages(id INTEGER PRIMARY KEY, slug TEXT NOT NULL, anchor TEXT NOT NULL, heading TEXT NOT NULL,
  text TEXT NOT NULL);
CREATE VIRTUAL TABLE passage_fts USING fts5(title, heading, text, tokenize='porter unicode61');
CREATE TABLE modifiers(code TEXT PRIMARY KEY, description TEXT NOT NULL, short TEXT NOT NULL,
  facts TEXT NOT NULL)
  WITHOUT ROWID;
CREATE TABLE lcd(id TEXT NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL, contractor TEXT NOT NULL,
  effective TEXT NOT NULL, retired TEXT NOT NULL, version TEXT NOT NULL, updated TEXT NOT NULL,
  url TEXT NOT NULL);
CREATE VIRTUAL TABLE lcd_fts USING fts5(title, content='lcd', tokenize='porter unicode61');
CREATE TABLE gem_by_icd9(kind TEXT NOT NULL, icd9 TEXT NOT NULL, icd10 TEXT NOT NULL, approx INTEGER NOT NULL,
  combo INTEGER NOT NULL, scenario INTEGER NOT NULL, choice INTEGER NOT NULL);
CREATE TABLE snapshots(kind TEXT PRIMARY KEY, file TEXT NOT NULL, release TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources(kind TEXT PRIMARY KEY, release TEXT NOT NULL, source_file TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE releases(codeset TEXT NOT NULL, position INTEGER NOT NULL, name TEXT NOT NULL,
  label TEXT NOT NULL, start TEXT NOT NULL, end TEXT NOT NULL, held_from TEXT NOT NULL,
  PRIMARY KEY (codeset, position)) WITHOUT ROWID;
CREATE TABLE changes(codeset TEXT NOT NULL, key TEXT NOT NULL, bare TEXT NOT NULL, release TEXT NOT NULL,
  previous TEXT NOT NULL, kind TEXT NOT NULL, old TEXT NOT NULL, new TEXT NOT NULL, instead TEXT NOT NULL);
"""


def facts_stage(cfg: SiteConfig, models: Mapping[str, CodeSetModel], jobs: int) -> FactsJob | Nothing:
    """The data stage: writes the facts beside the live file now; committed with the protected store."""
    del jobs  # a few seconds of SQLite writes: not worth a forked child
    if not cfg.assistant.enabled:
        return Nothing()
    problems = Problems()
    guides = content_cache.guides(cfg, problems)
    if problems.errors:
        raise BuildError(f"{problems.errors[0]} (a guide changed while the site was built)")
    job = FactsJob(cfg)
    job.write(dict(models), guides)
    return job


class Nothing:
    """The pending output of a stage that had nothing to write (CasePilot switched off)."""

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


def refresh_premium_facts(cfg: SiteConfig, changed: Collection[str]) -> FactsJob | Nothing:
    """The facts after a replaced CMS file (premium_update.py): committed with the store rows."""
    job = FactsJob(cfg)
    if not cfg.assistant.enabled or not job.path.exists():
        return Nothing()
    job.refresh(changed)
    return job


def facts_path(cfg: SiteConfig) -> Path:
    """`var/assistant.sqlite`, beside the protected store."""
    return cfg.store_path.with_name("assistant.sqlite")


def bare(key: str) -> str:
    """A code as people type it: no dots, upper case ('e11.65' and 'E1165' both find E11.65)."""
    return key.replace(".", "").upper()


class FactsJob:
    """Writes the facts file beside the live one; `publish()` renames it in, `abort()` drops it."""

    def __init__(self, cfg: SiteConfig) -> None:
        self.cfg = cfg
        self.path = facts_path(cfg)
        self.tmp = self.path.with_name(self.path.name + ".new")
        self.snap_dir = snapshots.snapshot_dir(cfg.store_path)
        self.kept: set[str] = set()

    def write(self, models: dict[str, CodeSetModel], guides: list[Guide]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp.unlink(missing_ok=True)
        db = sqlite3.connect(self.tmp, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=OFF")
            db.execute("PRAGMA synchronous=OFF")
            # SQLite's default 4 KiB pages: 64 KiB pages wrote the file a little faster, but made the gate's
            # point lookups of a code 60% slower (17 -> 27 µs: each reads a whole page).
            db.executescript(SCHEMA)
            # The code words' index built in memory and written once, at COMMIT, as one segment (the
            # default flushes it every 1 MB and merges the segments as it goes, and 'optimize' merges
            # them again). Undone below, so the table's settings are as without it.
            db.execute("INSERT INTO code_fts(code_fts, rank) VALUES ('hashsize', ?)", (FTS_HASH_SIZE,))
            db.execute("BEGIN")
            _write_codes(db, models)
            _write_guides(db, guides)
            _write_history(db, self.cfg, models)
            gems = self._write_premium(db)
            db.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("schema", SCHEMA_VERSION),
                    ("built", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                ],
            )
            db.execute("COMMIT")
            _copy_gems(db, gems)
            db.execute("CREATE INDEX gem_by_icd9_code ON gem_by_icd9(icd9)")
            db.execute("INSERT INTO code_fts(code_fts) VALUES ('optimize')")  # one segment already: cheap
            db.execute("DELETE FROM code_fts_config WHERE k = 'hashsize'")
            db.execute("ANALYZE")
        except BaseException:
            db.close()
            self.abort()
            raise
        db.close()

    def refresh(self, changed: Collection[str]) -> None:
        """A copy of the live facts naming the premium files as they are now, the tables of the
        `changed` kinds rewritten (a replaced CMS file: premium_update.py); `publish()` renames it in."""
        self.tmp.unlink(missing_ok=True)
        shutil.copyfile(self.path, self.tmp)
        db = sqlite3.connect(self.tmp, isolation_level=None)
        try:
            db.execute("BEGIN")
            db.execute("DELETE FROM sources")
            db.execute("DELETE FROM snapshots")
            marks = ",".join("?" * len(changed))
            db.execute(f"DELETE FROM gem_by_icd9 WHERE kind IN ({marks})", list(changed))
            gems = self._write_premium(db, refill=changed)
            db.execute("COMMIT")
            _copy_gems(db, gems)
        except BaseException:
            db.close()
            self.abort()
            raise
        db.close()

    def _write_premium(
        self, db: sqlite3.Connection, refill: Collection[str] | None = None
    ) -> list[tuple[str, Path]]:
        """Each kind's source and snapshot; the tables copied from the kinds of `refill` (None: all),
        but for the GEMs' rows: returns the (kind, snapshot file) to copy them from with `_copy_gems`."""
        self.snap_dir.mkdir(parents=True, exist_ok=True)
        gems: list[tuple[str, Path]] = []
        for kind in PREMIUM_KINDS:
            path = normalised_file(self.cfg, kind)
            if path is None:
                continue
            copy = refill is None or kind in refill
            src = connect(path)
            try:
                meta = read_meta(src)
                db.execute(
                    "INSERT INTO sources VALUES (?, ?, ?)",
                    (kind, meta.get("release", ""), meta.get("source_file", "")),
                )
                if kind == "hcpcs-modifiers":
                    if not copy:
                        continue
                    db.executemany(
                        "INSERT INTO modifiers VALUES (?, ?, ?, ?)",
                        src.execute("SELECT code, description, short, facts FROM modifier"),
                    )
                    continue
                if kind == "lcd":
                    if not copy:
                        continue
                    db.executemany(
                        "INSERT INTO lcd VALUES (?,?,?,?,?,?,?,?,?)",
                        src.execute(
                            "SELECT id, type, title, contractor, effective, retired, version, updated, url "
                             "FROM lcd"
                        ),
                    )
                    db.execute("INSERT INTO lcd_fts(rowid, title) SELECT rowid, title FROM lcd")
                    continue
            finally:
                src.close()
            name = self._snapshot(kind, path)
            if copy and kind in ("gem-icd9-to-cm", "gem-icd9-to-pcs"):  # the snapshot: by ICD-10 only
                gems.append((kind, self.snap_dir / name))  # the rows of the very file named
            db.execute("INSERT INTO snapshots VALUES (?, ?, ?)", (kind, name, meta.get("release", "")))
        return gems

    def _snapshot(self, kind: str, path: Path) -> str:
        """The snapshot of the file (generator/snapshots.py): the same one the protected store of this
        build names when the file did not change in between."""
        name = snapshots.link(self.snap_dir, kind, path)
        self.kept.add(name)
        return name

    def commit(self) -> None:
        self.publish()

    def publish(self) -> None:
        """Renames the new facts in, then removes snapshots neither these facts nor the live store
        name (a gate still reading an old one keeps its open file)."""
        os.replace(self.tmp, self.path)
        snapshots.prune(self.cfg.store_path, self.kept)

    def abort(self) -> None:
        self.tmp.unlink(missing_ok=True)


def _copy_gems(db: sqlite3.Connection, gems: Iterable[tuple[str, Path]]) -> None:
    """The GEMs' rows by ICD-9 code (~100k), copied by SQLite from the attached files, in the order a
    query of each file gives them: no Python object per row. Outside a transaction (ATTACH needs that)."""
    for kind, path in gems:
        db.execute("ATTACH ? AS gem_file", (str(path),))
        try:
            db.execute(
                "INSERT INTO gem_by_icd9 SELECT ?, icd9, icd10, approx, combo, scenario, choice"
                " FROM gem_file.gem WHERE icd9 IS NOT NULL",
                (kind,),
            )
        finally:
            db.execute("DETACH gem_file")


def _plain(markup: str) -> str:
    """A block's words without its tags: paragraphs and list items on lines of their own."""
    lines = (html.unescape(re.sub(r"<[^>]+>", "", part)) for part in re.split(r"</(?:p|li)>", markup))
    return "\n".join(words for words in (" ".join(line.split()) for line in lines) if words)


def _facts_json(facts: list[tuple[str, str]], known: dict[tuple[str, str], str]) -> str:
    """`json.dumps(facts)`, each label/value pair encoded once per build (`known`): a few hundred
    distinct pairs make the ~550k facts of ICD-10-PCS."""
    if not facts:
        return "[]"
    try:
        return "[" + ", ".join(map(known.__getitem__, facts)) + "]"
    except KeyError:  # a pair not seen yet: encode the new ones, then join as above
        for pair in facts:
            if pair not in known:
                known[pair] = json.dumps(pair)
        return "[" + ", ".join(map(known.__getitem__, facts)) + "]"


class _NoteLists:
    """The numbers of the note lists and their texts, in order of first use, with their rows.

    A record's note list is found by the identity of its section objects (`by_sections`): imported
    sections are shared objects (~77k of them make the ~770k sections of the code sets, ~70k distinct
    lists make the ~200k records), so each distinct list is read once, and each section object once.
    `by_sections` holds the sections of every list read, so no id in a key can be reused by another
    object while this lives.
    """

    def __init__(self) -> None:
        self.text_ids: dict[str, int] = {}
        self.list_ids: dict[tuple[tuple[str, int], ...], int] = {}
        self.note_rows: list[tuple[int, int, str, int]] = []
        self.by_object: dict[int, tuple[object, int]] = {}  # a shared text object: its id, hashed once
        self.by_section: dict[int, tuple[str, int] | None] = {}  # a section's (kind, text id); None: no note
        self.by_sections: dict[tuple[int, ...], tuple[int, str, list[Section]]] = {}

    def add(self, ids: tuple[int, ...], sections: list[Section]) -> tuple[int, str, list[Section]]:
        """(the list's number, 0 when it has no notes; the inclusion terms' words; `sections`), kept
        under `ids`, the ids of `sections`."""
        members: list[tuple[str, int]] = []
        terms = ""
        for s in sections:
            try:
                member = self.by_section[id(s)]
            except KeyError:
                member = self.by_section[id(s)] = self._member(s)
            if member is not None:
                members.append(member)
                if member[0] == "inclusion-terms":
                    terms = s.text
        number = 0
        if members:
            key = tuple(members)
            number = self.list_ids.get(key, 0)
            if not number:
                number = self.list_ids[key] = len(self.list_ids) + 1
                self.note_rows.extend((number, i, kind, tid) for i, (kind, tid) in enumerate(members))
        found = self.by_sections[ids] = (number, terms, sections)
        return found

    def _member(self, s: Section) -> tuple[str, int] | None:
        source = s.html if s.kind == HISTORY else s.text  # history's `text` is only its search words
        if s.kind not in NOTE_KIND_SET or not source:
            return None
        hit = self.by_object.get(id(source))
        if hit is not None and hit[0] is source:
            return s.kind, hit[1]
        text = _plain(source) if s.kind == HISTORY else source
        tid = self.text_ids.setdefault(text, len(self.text_ids) + 1)
        self.by_object[id(source)] = (source, tid)
        return s.kind, tid


def _write_codes(db: sqlite3.Connection, models: dict[str, CodeSetModel]) -> None:
    notes = _NoteLists()
    by_sections = notes.by_sections
    rows_of: dict[str, list[tuple[object, ...]]] = {}
    fts_rows: list[tuple[str, str, str]] = []
    fact_json: dict[tuple[str, str], str] = {}
    for codeset, model in models.items():
        rows = rows_of[codeset] = []
        for rec in model.records:
            ids = tuple(map(id, rec.sections))
            found = by_sections.get(ids)
            if found is None:
                found = notes.add(ids, rec.sections)
            number, terms, _ = found
            text = _facts_json(rec.facts, fact_json)
            key, title, short_title, kind = rec.key, rec.title, rec.short_title, rec.kind
            rows.append(
                (
                    codeset,
                    key,
                    bare(key),
                    title,
                    short_title,
                    kind,
                    None if rec.billable is None else int(rec.billable),
                    rec.parent,
                    rec.source,
                    text,
                    number,
                )
            )
            if kind == CODE and (title or terms):
                fts_rows.append((f"{title} {short_title} {terms}".strip(), codeset, key))
    # In key order: the table is kept in that order, and rows inserted in another (the code sets'
    # hierarchy) cost SQLite ~5x more (B-tree pages split all over instead of appended to).
    for rows in rows_of.values():
        rows.sort(key=operator.itemgetter(1))  # a code set's keys are distinct
    db.executemany(
        "INSERT INTO codes VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        itertools.chain.from_iterable(rows_of[cs] for cs in sorted(rows_of)),
    )
    db.execute("CREATE INDEX codes_bare ON codes(bare)")
    db.execute("CREATE INDEX codes_parent ON codes(codeset, parent)")  # a header's more specific codes
    db.executemany("INSERT INTO texts VALUES (?, ?)", [(i, t) for t, i in notes.text_ids.items()])
    db.executemany("INSERT INTO notes VALUES (?, ?, ?, ?)", notes.note_rows)
    db.executemany("INSERT INTO code_fts(words, codeset, key) VALUES (?, ?, ?)", fts_rows)
    names = {cs: CODESET_NAMES[cs] for cs in models}
    db.execute("INSERT INTO meta VALUES ('codesets', ?)", (json.dumps(names),))
    releases = {
        cs: next((r.source for r in m.records if r.is_code and r.source), "") for cs, m in models.items()
    }
    db.execute("INSERT INTO meta VALUES ('releases', ?)", (json.dumps(releases),))


def _write_guides(db: sqlite3.Connection, guides: Iterable[Guide]) -> None:
    for g in guides:
        db.execute(
            "INSERT INTO guides VALUES (?, ?, ?, ?, ?)",
            (g.slug, g.title, g.summary, json.dumps(g.sources), json.dumps(g.topics)),
        )
        for p in g.passages:
            cur = db.execute(
                "INSERT INTO passages(slug, anchor, heading, text) VALUES (?, ?, ?, ?)",
                (g.slug, p.anchor, p.heading, p.text),
            )
            db.execute(
                "INSERT INTO passage_fts(rowid, title, heading, text) VALUES (?, ?, ?, ?)",
                (cur.lastrowid, f"{g.title} {' '.join(g.topics)}", p.heading if p.anchor else "", p.text),
            )


def _write_history(db: sqlite3.Connection, cfg: SiteConfig, models: Mapping[str, CodeSetModel]) -> None:
    db.executemany("INSERT INTO releases VALUES (?, ?, ?, ?, ?, ?, ?)", release_rows(cfg))
    db.executemany("INSERT INTO changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", change_rows(cfg, models))
    db.execute("CREATE INDEX changes_bare ON changes(bare)")
