"""Converting an NCCI PTP file into its normalised SQLite file: the plain reading line by line, and
a fast path for tab-separated files without quotes (the shipped ones: 2.5 million edits, sorted by
column 1).

A code's id is its base-36 value + 1 (no table to build, and ids sort like the codes), and the `ptp`
rows are stored in column 1 order (a file that is not is reordered), so a code's edits as column 1
are consecutive rows, which `c1_rows` gives: column 1 needs no index (sorting 2.5 million entries for
one cost half a second), column 2 keeps a covering one.

The fast path reads a block of lines one run of equal column 1 codes at a time: the run's end is
found by bisection, its column 1 cut off in C (`str.replace`), and each line's remainder (column 2
and the rest: 60,000 distinct in 2.5 million lines) is checked and normalised once. Each row goes to
SQLite as one packed integer (column 1, column 2 and the id of its dates, indicator and rationale)
that one statement unpacks (binding six values per row cost more than all the rest). Whenever a file
is not plain (a quote, a code not 5 characters wide, a blank line, a value the plain reading would
reject) it stops before anything is kept and the plain reading converts the file, with its error
naming the line. Both give the same database (`tests/test_premium_ncci_import.py`).
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from .db import ImportResult, Output, release_label
from .tabular import CODE_RE, Column, Table, parse_date, show_date

SETTINGS = {"ncci-ptp-practitioner": "practitioner", "ncci-ptp-hospital": "outpatient hospital"}

COLUMNS = (
    Column("column 1", ("column1", "col1", "column1code", "comprehensive", "comprehensivecode")),
    Column("column 2", ("column2", "col2", "column2code", "component", "componentcode")),
    Column("modifier indicator", ("modifierindicator", "modifier", "modind", "modifierind")),
    Column("effective date", ("effectivedate", "effective", "effdate"), required=False),
    Column("deletion date", ("deletiondate", "deletion", "deldate"), required=False),
    Column("rationale", ("ptpeditrationale", "rationale", "editrationale"), required=False),
)

SCHEMA = """
CREATE TABLE codes(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE rationale(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE ptp(c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, eff INTEGER, del INTEGER,
                 mod INTEGER NOT NULL, rat INTEGER);
CREATE TABLE c1_rows(c1 INTEGER PRIMARY KEY, first INTEGER NOT NULL, last INTEGER NOT NULL);
"""
# The table is in column 1 order, so a code's edits as column 1 are the rows `c1_rows` gives (no index
# to sort); as column 2 they are all over the table, and a covering index reads them from consecutive
# index pages instead.
INDEXES = "CREATE INDEX ptp_c2 ON ptp(c2, c1, eff, del, mod, rat);"
# ANALYZE reads this many rows of each index: the planner needs the shape of the data, and reading
# all 2.5 million rows twice cost a second.
ANALYSIS_LIMIT = 1000
BATCH = 50_000

# The fast path's packed row: column 1 id << 37 | rest id << 26 | column 2 id, where a rest is one
# (effective date, deletion date, modifier indicator, rationale) and the statement takes its values
# from a temporary table of them (the shipped files have 1,200 of them).
ID_BITS, REST_BITS = 26, 11  # a code id is at most 36**5; SQLite integers are signed 64-bit
MAX_ID, MAX_REST = (1 << ID_BITS) - 1, (1 << REST_BITS) - 1
C1_SHIFT = ID_BITS + REST_BITS
ROWS_PER_INSERT = 500
BLOCK_CHARS = 1 << 22


def version_date(name: str) -> str:
    """NCCI file names carry the version: 'ccipra-v302r0' is version 30.2, effective 2024-07-01
    (version 30 is 2024; .0-.3 are the quarters)."""
    m = re.search(r"v(\d\d)([0-3])r\d", name.lower())
    if not m:
        return ""
    return f"{1994 + int(m[1])}-{int(m[2]) * 3 + 1:02d}-01"


class NotPlain(Exception):
    """The fast path cannot read this file (the plain reading can, or names the line it cannot)."""


@dataclass(slots=True)
class Read:
    """What reading a file's edits found (its rows went into the `ptp` table)."""

    codes: dict[str, int] = field(default_factory=dict)  # code -> id
    rats: dict[str, int] = field(default_factory=dict)  # rationale -> id, in order of appearance
    rows: int = 0
    active: int = 0  # rows without a deletion date
    max_eff: int = 0
    in_order: bool = True  # the rows went in in column 1 order (else `reorder` puts them in it)
    spans: dict[int, list[int]] | None = None  # column 1 id -> [first, last] rowid, if the reading kept them


def code_id(code: str) -> int:
    """A code's id: its base-36 value + 1 (codes are 5 characters of 0-9 and A-Z, `CODE_RE`), so ids
    sort like the codes."""
    return int(code, 36) + 1


def import_ptp(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    """Converts an NCCI PTP file: the fast path when the file is plain, else the plain reading."""
    try:
        return convert(kind, path, out, release, fast=True)
    except NotPlain:
        return convert(kind, path, out, release, fast=False)


def convert(kind: str, path: Path, out: Path, release: str | None, *, fast: bool) -> ImportResult:
    """Converts with one reading: `fast` raises `NotPlain` when the file is not plain (nothing kept)."""
    setting = SETTINGS[kind]
    table = Table(path, COLUMNS, "an NCCI PTP edit file (column 1 / column 2 / modifier indicator)")
    o = Output(out, SCHEMA)
    try:
        found = read_plain(table, o.db) if fast else read_rows(table, o.db)
        if not found.rows:
            raise BuildError(f"{path}: no edits found below the header")
        if not found.in_order:
            reorder(o.db)
        if found.in_order and found.spans is not None:
            o.db.executemany("INSERT INTO c1_rows VALUES (?, ?, ?)",
                             [(c, first, last) for c, (first, last) in found.spans.items()])
        else:
            o.db.execute("INSERT INTO c1_rows SELECT c1, min(rowid), max(rowid) FROM ptp GROUP BY c1")
        o.db.executemany("INSERT INTO codes VALUES (?, ?)", sorted((i, c) for c, i in found.codes.items()))
        o.db.executemany("INSERT INTO rationale VALUES (?, ?)", [(i, t) for t, i in found.rats.items()])
        max_eff = found.max_eff
        rel = release_label(release, version_date(path.name) or (show_date(max_eff) if max_eff else ""), path)
        o.commit({"kind": kind, "setting": setting, "release": rel, "source_file": path.name,
                  "rows": str(found.rows), "active": str(found.active)}, INDEXES, ANALYSIS_LIMIT)
    except BaseException:
        table.close()
        o.abort()
        raise
    return ImportResult(found.rows, rel, out, f"{found.active:,} active")


def reorder(db: sqlite3.Connection) -> None:
    """Puts the `ptp` rows of a file not sorted by column 1 in column 1 order (a code's lines in file
    order): a table in that order serves a code's edits as column 1 from consecutive rows."""
    db.execute("CREATE TEMP TABLE sorted AS SELECT * FROM ptp ORDER BY c1, rowid")
    db.execute("DELETE FROM ptp")
    db.execute("INSERT INTO ptp SELECT * FROM temp.sorted ORDER BY rowid")
    db.execute("DROP TABLE temp.sorted")


def read_rows(table: Table, db: sqlite3.Connection) -> Read:
    """The plain reading, line by line: any layout `Table` reads, errors naming the line."""
    path = table.path
    found = Read()
    codes, rats = found.codes, found.rats
    batch: list[tuple[int, int, int | None, int | None, int, int | None]] = []
    rows = active = max_eff = last = 0
    ix = table.index
    i_c1, i_c2, i_mod = ix["column 1"], ix["column 2"], ix["modifier indicator"]
    i_eff, i_del, i_rat = ix.get("effective date"), ix.get("deletion date"), ix.get("rationale")
    width = max(ix.values()) + 1
    dates: dict[str, int | None] = {}

    def date(raw: str, line: int) -> int | None:
        hit = dates.get(raw, 0)
        if hit == 0:
            try:
                hit = dates[raw] = parse_date(raw)
            except ValueError as exc:
                raise BuildError(f"{path}:{line}: {exc}") from None
        return hit

    for line, cells in table.rows():
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        c1, c2 = cells[i_c1].strip().upper(), cells[i_c2].strip().upper()
        i1, i2 = codes.get(c1), codes.get(c2)
        if i1 is None or i2 is None:
            if not CODE_RE.match(c1) or not CODE_RE.match(c2):
                raise BuildError(
                    f"{path}:{line}: column 1 '{c1}' / column 2 '{c2}' is not a pair of 5-character codes"
                )
            i1 = codes.setdefault(c1, code_id(c1))
            i2 = codes.setdefault(c2, code_id(c2))
        mod_s = cells[i_mod].strip()[:1]
        if mod_s not in ("0", "1", "9"):
            raise BuildError(f"{path}:{line}: modifier indicator '{mod_s}' must be 0, 1 or 9")
        eff = date(cells[i_eff].strip(), line) if i_eff is not None else None
        dele = date(cells[i_del].strip(), line) if i_del is not None else None
        rat = None
        if i_rat is not None:
            rat_text = cells[i_rat].strip()
            if rat_text:
                rat = rats.get(rat_text) or rats.setdefault(rat_text, len(rats) + 1)
        batch.append((i1, i2, eff, dele, int(mod_s), rat))
        rows += 1
        if i1 < last:
            found.in_order = False
        last = i1
        if dele is None:
            active += 1
        if eff and eff > max_eff:
            max_eff = eff
        if len(batch) >= BATCH:
            db.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?)", batch)
            batch.clear()
    db.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?)", batch)
    found.rows, found.active, found.max_eff = rows, active, max_eff
    return found


def _insert_sql(n: int) -> str:
    """INSERT of `n` packed rows (one parameter each, see ID_BITS)."""
    values = ",".join(["(?)"] * n)
    return (f"INSERT INTO ptp SELECT v.column1 >> {C1_SHIFT}, v.column1 & {MAX_ID}, r.eff, r.del, r.mod, "
            f"r.rat FROM (VALUES {values}) v JOIN temp.rest r "
            f"ON r.id = (v.column1 >> {ID_BITS}) & {MAX_REST}")


def _run_end(text: str, start: int, head: str) -> int:
    """Where the lines from `start` that begin with `head` end (the line end after the last, or the
    end of `text`), found by bisection: in a file sorted by column 1 they are consecutive. (In one
    that is not, the span found may hold lines of other codes: the caller checks.)"""
    n = len(text)

    def ours(at: int) -> bool:  # does the line holding text[at] begin with `head`?
        return text.startswith(head, text.rfind("\n", 0, at) + 1)

    lo, step = start, 4096  # ours(lo); `hi` is the first place found not ours (or the end)
    hi = start + step
    while hi < n and ours(hi):
        lo, step = hi, step * 2
        hi = lo + step
    hi = min(hi, n)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ours(mid):
            lo = mid
        else:
            hi = mid
    return hi - 1 if hi < n else n


def read_plain(table: Table, db: sqlite3.Connection) -> Read:
    """The fast path: a tab-separated file without quotes (lines may end in CRLF) whose first two
    columns are column 1 and column 2, every line starting with two 5-character cells (fastest when
    sorted by column 1: it takes a run of lines of one column 1 code at once). Raises `NotPlain` for
    any other file, or for a value the plain reading would reject (it then names the line)."""
    ix = table.index
    if table.delim != "\t" or ix["column 1"] != 0 or ix["column 2"] != 1:
        raise NotPlain
    spans: dict[int, list[int]] = {}
    found = Read(spans=spans)
    codes, rats = found.codes, found.rats
    i_mod, i_eff, i_del, i_rat = (ix["modifier indicator"], ix.get("effective date"), ix.get("deletion date"),
                                  ix.get("rationale"))
    width = max(ix.values()) + 1
    # Each distinct raw cell is read once: a code's id, each distinct rest of a line after column 2
    # (effective, deletion, indicator, rationale and any other cells) its rest id, and each distinct
    # remainder after column 1 (column 2 and the rest) what it adds to the packed row and whether the
    # edit is active.
    ids: dict[str, int] = {}
    tail_value: dict[str, int] = {}
    tail_active: dict[str, int] = {}
    rests: dict[str, tuple[int, int]] = {}  # the cells after column 2 -> (rest id, active)
    rest_ids: dict[tuple[int | None, int | None, int, int | None], int] = {}  # the values -> rest id
    db.execute("CREATE TEMP TABLE rest(id INTEGER PRIMARY KEY, eff INTEGER, del INTEGER, mod INTEGER, "
               "rat INTEGER)")
    full = _insert_sql(ROWS_PER_INSERT)
    step = ROWS_PER_INSERT
    last = 0  # the previous run's column 1 id

    def code(raw: str) -> int:
        hit = ids.get(raw)
        if hit is None:
            value = raw.upper()
            if len(raw) != 5 or not CODE_RE.match(value):
                raise NotPlain
            hit = ids[raw] = codes.setdefault(value, code_id(value))
        return hit

    def date(raw: str) -> int | None:
        try:
            return parse_date(raw)
        except ValueError:
            raise NotPlain from None

    def rest_of(rest: str) -> tuple[int, int]:
        hit = rests.get(rest)
        if hit is not None:
            return hit
        cells = ["", "", *rest.split("\t")]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        eff = date(cells[i_eff]) if i_eff is not None else None
        dele = date(cells[i_del]) if i_del is not None else None
        mod_s = cells[i_mod].strip()[:1]
        if mod_s not in ("0", "1", "9"):
            raise NotPlain
        rat = None
        if i_rat is not None:
            text = cells[i_rat].strip()
            if text:
                rat = rats.setdefault(text, len(rats) + 1)
        if eff and eff > found.max_eff:
            found.max_eff = eff
        values = (eff, dele, int(mod_s), rat)
        rid = rest_ids.get(values)
        if rid is None:
            rid = rest_ids[values] = len(rest_ids) + 1
            if rid > MAX_REST:
                raise NotPlain
            db.execute("INSERT INTO temp.rest VALUES (?, ?, ?, ?, ?)", (rid, *values))
        hit = rests[rest] = (rid, 0 if dele else 1)
        return hit

    def add_tail(tail: str) -> None:
        if tail[5:6] != "\t":
            raise NotPlain  # a short line, or column 2 not 5 characters wide
        c2 = code(tail[:5])
        rid, active = rest_of(tail[6:])
        tail_value[tail], tail_active[tail] = rid << ID_BITS | c2, active

    for text in table.text_blocks(BLOCK_CHARS):
        if '"' in text:
            raise NotPlain
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                raise NotPlain
        packed: list[int] = []
        n, at = len(text), 0
        while at < n:
            head = text[at:at + 6]
            if head[5:] != "\t":
                raise NotPlain  # a blank or short line, or column 1 not 5 characters wide
            c1 = code(head[:5])
            if c1 < last:
                found.in_order = False
            last = c1
            end = _run_end(text, at, head)
            joint = "\n" + head
            if text.count("\n", at, end) != text.count(joint, at, end):
                end = text.find("\n", at, end)  # a line of another code within (not sorted): this line alone
            tails = text[at + 6:end].replace(joint, "\n").split("\n")
            try:
                parts = list(map(tail_value.__getitem__, tails))
            except KeyError:  # new tails, taken in order (rationale ids are in order of appearance)
                for tail in tails:
                    if tail not in tail_value:
                        add_tail(tail)
                parts = list(map(tail_value.__getitem__, tails))
            first = found.rows + len(packed) + 1  # rowids count from 1 in a new table
            span = spans.get(c1)
            if span is None:
                spans[c1] = [first, first + len(parts) - 1]
            elif span[1] == first - 1:  # a run cut by the end of a block
                span[1] += len(parts)
            else:
                found.in_order = False
            packed += map((c1 << C1_SHIFT).__add__, parts)
            found.active += sum(map(tail_active.__getitem__, tails))
            at = end + 1
        k = len(packed)
        found.rows += k
        whole = k - k % step
        db.executemany(full, (packed[j:j + step] for j in range(0, whole, step)))
        if whole < k:
            db.execute(_insert_sql(k - whole), packed[whole:])
    return found
