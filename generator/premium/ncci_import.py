"""Converting an NCCI PTP file into its normalised SQLite file: the plain reading line by line, and
a fast path for tab-separated files without quotes (the shipped ones: 2.5 million edits).

The fast path handles blocks of lines at once: the two codes and the rest of each line are cut in
C, each distinct code and rest is checked and normalised once (there are 13,000 codes, a thousand
rests (dates, indicator, rationale) and 2.5 million rows), and each row goes to SQLite as two packed
integers that one statement unpacks (binding six values per row cost more than all the rest).
Whenever a file is not plain (a quote, a code not 5 characters wide, a blank line, a value the
plain reading would reject) it stops before anything is kept and the plain reading converts the
file, with its error naming the line. Both give the same database
(`tests/test_premium_ncci_import.py`).
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import add, itemgetter, not_
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
"""
# Covering indexes: a code's edits are read from consecutive index pages, not rows all over the table.
INDEXES = ("CREATE INDEX ptp_c1 ON ptp(c1, c2, eff, del, mod, rat); "
           "CREATE INDEX ptp_c2 ON ptp(c2, c1, eff, del, mod, rat);")
# ANALYZE reads this many rows of each index: the planner needs the shape of the data, and reading
# all 2.5 million rows twice cost a second.
ANALYSIS_LIMIT = 1000
BATCH = 50_000

# The fast path's packed row: a = column 1 id | column 2 id << 20 | indicator << 40 | rationale id << 44,
# b = deletion date | effective date << 27 (dates as YYYYMMDD; 0 stands for NULL).
ID_BITS, DATE_BITS = 20, 27
MAX_ID, MAX_DATE = (1 << ID_BITS) - 1, (1 << DATE_BITS) - 1
MAX_RATIONALE = (1 << (63 - 2 * ID_BITS - 4)) - 1  # SQLite integers are signed 64-bit
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

    codes: dict[str, int] = field(default_factory=dict)  # code -> id, in order of appearance
    rats: dict[str, int] = field(default_factory=dict)  # rationale -> id, in order of appearance
    rows: int = 0
    active: int = 0  # rows without a deletion date
    max_eff: int = 0


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
        o.db.executemany("INSERT INTO codes VALUES (?, ?)", [(i, c) for c, i in found.codes.items()])
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


def read_rows(table: Table, db: sqlite3.Connection) -> Read:
    """The plain reading, line by line: any layout `Table` reads, errors naming the line."""
    path = table.path
    found = Read()
    codes, rats = found.codes, found.rats
    batch: list[tuple[int, int, int | None, int | None, int, int | None]] = []
    rows = active = max_eff = 0
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
            i1 = codes.setdefault(c1, len(codes) + 1)
            i2 = codes.setdefault(c2, len(codes) + 1)
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
    """INSERT of `n` packed rows (two parameters each, see ID_BITS)."""
    row = ("(?{a} & {m}, (?{a} >> {ib}) & {m}, nullif(?{b} >> {db}, 0), nullif(?{b} & {md}, 0), "
           "(?{a} >> {mb}) & 15, nullif(?{a} >> {rb}, 0))")
    values = ",".join(
        row.format(a=2 * k + 1, b=2 * k + 2, m=MAX_ID, ib=ID_BITS, db=DATE_BITS, md=MAX_DATE,
                   mb=2 * ID_BITS, rb=2 * ID_BITS + 4)
        for k in range(n)
    )
    return f"INSERT INTO ptp VALUES {values}"


def read_plain(table: Table, db: sqlite3.Connection) -> Read:
    """The fast path: a tab-separated file without quotes (lines may end in CRLF) whose first two
    columns are column 1 and column 2, every line starting with two 5-character cells. Raises
    `NotPlain` for any other file, or for a value the plain reading would reject (it then names the
    line)."""
    ix = table.index
    if table.delim != "\t" or {ix["column 1"], ix["column 2"]} != {0, 1}:
        raise NotPlain
    found = Read()
    codes, rats = found.codes, found.rats
    swapped = ix["column 1"] == 1
    i_mod, i_eff, i_del, i_rat = (ix["modifier indicator"], ix.get("effective date"), ix.get("deletion date"),
                                  ix.get("rationale"))
    width = max(ix.values()) + 1
    # Each distinct raw cell is read once: a code's id (and its id shifted into column 2's place), and
    # for each distinct rest of the line (effective, deletion, indicator, rationale and any other
    # cells) a number, what it adds to the packed row and whether the edit is active.
    id1: dict[str, int] = {}
    id2: dict[str, int] = {}
    rest_id: dict[str, int] = {}  # numbered from 1 (0 is false: the new ones are found in C)
    rest_a: list[int] = [0]
    rest_b: list[int] = [0]
    rest_active: list[int] = [0]
    full = _insert_sql(ROWS_PER_INSERT)
    step = 2 * ROWS_PER_INSERT
    first, second, rest_of = itemgetter(slice(0, 5)), itemgetter(slice(6, 11)), itemgetter(slice(12, None))

    def date(raw: str) -> int:
        try:
            value = parse_date(raw)
        except ValueError:
            raise NotPlain from None
        if value is not None and not 0 < value <= MAX_DATE:
            raise NotPlain
        return value or 0

    def add_rest(rest: str) -> None:
        cells = ["", "", *rest.split("\t")]
        if len(cells) < width:
            cells += [""] * (width - len(cells))
        eff = date(cells[i_eff]) if i_eff is not None else 0
        dele = date(cells[i_del]) if i_del is not None else 0
        mod_s = cells[i_mod].strip()[:1]
        if mod_s not in ("0", "1", "9"):
            raise NotPlain
        rat = 0
        if i_rat is not None:
            text = cells[i_rat].strip()
            if text:
                rat = rats.setdefault(text, len(rats) + 1)
                if rat > MAX_RATIONALE:
                    raise NotPlain
        rest_id[rest] = len(rest_a)
        rest_a.append(int(mod_s) << 2 * ID_BITS | rat << (2 * ID_BITS + 4))
        rest_b.append(dele | eff << DATE_BITS)
        rest_active.append(0 if dele else 1)
        if eff > found.max_eff:
            found.max_eff = eff

    for text in table.text_blocks(BLOCK_CHARS):
        if '"' in text:
            raise NotPlain
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                raise NotPlain
        lines = text.split("\n")
        try:
            if set(map(itemgetter(5), lines)) != {"\t"} or set(map(itemgetter(11), lines)) != {"\t"}:
                raise NotPlain
        except IndexError:
            raise NotPlain from None  # a blank or short line
        c1s, c2s = list(map(first, lines)), list(map(second, lines))
        if swapped:
            c1s, c2s = c2s, c1s
        for raw in dict.fromkeys(chain.from_iterable(zip(c1s, c2s, strict=True))):
            if raw not in id1:
                code = raw.strip().upper()
                if not CODE_RE.match(code):
                    raise NotPlain
                i = codes.setdefault(code, len(codes) + 1)
                if i > MAX_ID:
                    raise NotPlain
                id1[raw], id2[raw] = i, i << ID_BITS
        rests = list(map(rest_of, lines))
        del lines
        rids = list(map(rest_id.get, rests, repeat(0)))
        if 0 in rids:  # new rests, taken in order (rationale ids are in order of appearance)
            for at in compress(range(len(rids)), map(not_, rids)):
                rest = rests[at]
                if rest not in rest_id:
                    add_rest(rest)
                rids[at] = rest_id[rest]
        n = len(rids)
        packed: list[int] = [0] * (2 * n)
        packed[0::2] = map(add, map(add, map(id1.__getitem__, c1s), map(id2.__getitem__, c2s)),
                           map(rest_a.__getitem__, rids))
        packed[1::2] = map(rest_b.__getitem__, rids)
        found.rows += n
        found.active += sum(map(rest_active.__getitem__, rids))
        whole = len(packed) - len(packed) % step
        db.executemany(full, (packed[k:k + step] for k in range(0, whole, step)))
        if whole < len(packed):
            db.execute(_insert_sql((len(packed) - whole) // 2), packed[whole:])
    return found
