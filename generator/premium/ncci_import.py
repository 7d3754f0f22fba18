"""Converting an NCCI PTP file into its normalised SQLite file: the plain reading line by line, and
a fast path for tab-separated files without quotes (the shipped ones: 2.5 million edits, sorted by
column 1).

The edits are stored by code, both ways: `by_c1` holds one row per column 1 code whose BLOB packs
its edits (`pack`: one 8-byte integer, rest id << 32 | column 2 id, per edit, in file order), and
`by_c2` one per column 2 code (rest id << 32 | column 1 id, sorted), where a rest is one (effective
date, deletion date, modifier indicator, rationale) of the `rest` table (the shipped files have
1,200). So a code's edits either way are one row read by key: no row per edit to insert and no index
of 2.5 million entries to sort. A code's id is its base-36 value + 1 (no table to build, and ids
sort like the codes). Files converted before hold a `ptp` table of one row per edit instead; the
readers (`ncci.PtpSource`, `ncci.layout`) read both.

The fast path reads a block of lines one run of equal column 1 codes at a time: the run's end is
found by bisection, its lines split at their column 1 in C (`str.split`), and each line's remainder
(column 2 and the rest: 60,000 distinct in 2.5 million lines) is checked and normalised once, into
its packed edit and a list of the column 1 ids of its lines. Per line, all in C (`map`), one look-up
gives the packed edit for column 1 and one appends column 1 to that list (the column 2 code's edits
are packed from the lists at the end). Whenever a file is not plain (a quote, a code not 5 characters
wide, a blank line, a value the plain reading would reject) it stops before anything is kept and
the plain reading converts the file, with its error naming the line. Both give the same database
(`tests/test_premium_ncci_import.py`).
"""
from __future__ import annotations

import re
import sqlite3
import sys
from array import array
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain, filterfalse, repeat
from operator import itemgetter
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
CREATE TABLE rest(id INTEGER PRIMARY KEY, eff INTEGER, del INTEGER, mod INTEGER NOT NULL, rat INTEGER);
CREATE TABLE by_c1(code INTEGER PRIMARY KEY, edits BLOB NOT NULL);
CREATE TABLE by_c2(code INTEGER PRIMARY KEY, edits BLOB NOT NULL);
"""
GROUPED = "by_c1"  # the table that tells this layout from the row-per-edit `ptp` table of earlier files
REST_SHIFT = 32  # a packed edit: rest id << REST_SHIFT | the other code's id (at most 36**5)
ID_MASK = (1 << REST_SHIFT) - 1
BLOCK_CHARS = 1 << 22

_LITTLE = sys.byteorder == "little"  # packed edits are little-endian unsigned 64-bit integers
_WORD = next(t for t in "IL" if array(t).itemsize == 4)  # an unsigned 32-bit array
if array("Q").itemsize != 8:  # pragma: no cover (every platform CPython supports)
    raise ImportError("array('Q') is not 8 bytes wide here")


def pack(edits: Iterable[int]) -> bytes:
    """Packed edits (rest id << REST_SHIFT | code id) as a BLOB of `by_c1` / `by_c2`."""
    a = array("Q", edits)
    if not _LITTLE:
        a.byteswap()
    return a.tobytes()


def _pack_lists(lists: list[tuple[int, list[int]]]) -> bytes:
    """`pack` of rest << REST_SHIFT | id for each id of each (rest, ids) of `lists`, without a
    Python step per id: the 64-bit little-endian integers are pairs of 32-bit words, the id's then
    the rest's."""
    ids = array(_WORD, chain.from_iterable(map(itemgetter(1), lists)))
    rests = array(_WORD)
    for rest, c1s in lists:
        rests += array(_WORD, (rest,)) * len(c1s)
    words = array(_WORD, bytes(8 * len(ids)))
    words[0::2] = ids
    words[1::2] = rests
    if not _LITTLE:
        words.byteswap()
    return words.tobytes()


def unpack(blob: bytes) -> array[int]:
    """The packed edits of a BLOB of `pack`."""
    a = array("Q", blob)
    if not _LITTLE:
        a.byteswap()
    return a


def version_date(name: str) -> str:
    """NCCI file names carry the version: 'ccipra-v302r0' is version 30.2, effective 2024-07-01
    (version 30 is 2024; .0-.3 are the quarters)."""
    m = re.search(r"v(\d\d)([0-3])r\d", name.lower())
    if not m:
        return ""
    return f"{1994 + int(m[1])}-{int(m[2]) * 3 + 1:02d}-01"


class NotPlain(Exception):
    """The fast path cannot read this file (the plain reading can, or names the line it cannot)."""


# A rest: effective date, deletion date, modifier indicator, rationale id
Rest = tuple["int | None", "int | None", int, "int | None"]


@dataclass(slots=True)
class Read:
    """What reading a file's edits found, as the tables keep it."""

    codes: dict[str, int] = field(default_factory=dict)  # code -> id
    rats: dict[str, int] = field(default_factory=dict)  # rationale -> id, in order of appearance
    rests: dict[Rest, int] = field(default_factory=dict)  # rest -> id, in order of appearance
    by_c1: dict[int, bytes] = field(default_factory=dict)  # column 1 id -> its packed edits, in file order
    by_c2: dict[int, bytes] = field(default_factory=dict)  # column 2 id -> its packed edits, sorted
    rows: int = 0
    active: int = 0  # edits without a deletion date
    max_eff: int = 0


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
        found = read_plain(table) if fast else read_rows(table)
        if not found.rows:
            raise BuildError(f"{path}: no edits found below the header")
        write(o.db, found)
        max_eff = found.max_eff
        rel = release_label(release, version_date(path.name) or (show_date(max_eff) if max_eff else ""), path)
        o.commit({"kind": kind, "setting": setting, "release": rel, "source_file": path.name,
                  "rows": str(found.rows), "active": str(found.active)})
    except BaseException:
        table.close()
        o.abort()
        raise
    return ImportResult(found.rows, rel, out, f"{found.active:,} active")


def write(db: sqlite3.Connection, found: Read) -> None:
    """Writes the tables of what a reading found, in key order."""
    db.executemany("INSERT INTO codes VALUES (?, ?)", sorted((i, c) for c, i in found.codes.items()))
    db.executemany("INSERT INTO rationale VALUES (?, ?)", [(i, t) for t, i in found.rats.items()])
    db.executemany("INSERT INTO rest VALUES (?, ?, ?, ?, ?)", [(i, *r) for r, i in found.rests.items()])
    db.executemany("INSERT INTO by_c1 VALUES (?, ?)", sorted(found.by_c1.items()))
    db.executemany("INSERT INTO by_c2 VALUES (?, ?)", sorted(found.by_c2.items()))


def read_rows(table: Table) -> Read:
    """The plain reading, line by line: any layout `Table` reads, errors naming the line."""
    path = table.path
    found = Read()
    codes, rats, rests = found.codes, found.rats, found.rests
    by_c1: dict[int, list[int]] = {}
    by_c2: dict[int, list[int]] = {}
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
        values = (eff, dele, int(mod_s), rat)
        rest = (rests.get(values) or rests.setdefault(values, len(rests) + 1)) << REST_SHIFT
        by_c1.setdefault(i1, []).append(rest | i2)
        by_c2.setdefault(i2, []).append(rest | i1)
        rows += 1
        if dele is None:
            active += 1
        if eff and eff > max_eff:
            max_eff = eff
    found.by_c1 = {c: pack(edits) for c, edits in by_c1.items()}
    found.by_c2 = {c: pack(sorted(edits)) for c, edits in by_c2.items()}
    found.rows, found.active, found.max_eff = rows, active, max_eff
    return found


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


def read_plain(table: Table) -> Read:
    """The fast path: a tab-separated file without quotes (lines may end in CRLF) whose first two
    columns are column 1 and column 2, every line starting with two 5-character cells (fastest when
    sorted by column 1: it takes a run of lines of one column 1 code at once). Raises `NotPlain` for
    any other file, or for a value the plain reading would reject (it then names the line)."""
    ix = table.index
    if table.delim != "\t" or ix["column 1"] != 0 or ix["column 2"] != 1:
        raise NotPlain
    found = Read()
    codes, rats, rests, by_c1 = found.codes, found.rats, found.rests, found.by_c1
    i_mod, i_eff, i_del, i_rat = (ix["modifier indicator"], ix.get("effective date"), ix.get("deletion date"),
                                  ix.get("rationale"))
    width = max(ix.values()) + 1
    # Each distinct raw cell is read once: a code's id, each distinct rest of a line after column 2
    # (effective, deletion, indicator, rationale and any other cells) its rest id, and each distinct
    # remainder after column 1 (column 2 and the rest) its packed edit (rest id << REST_SHIFT |
    # column 2 id), with the list of the column 1 ids of its lines.
    ids: dict[str, int] = {}
    rest_id: dict[str, int] = {}  # the cells after column 2 -> rest id
    tail_value: dict[str, int] = {}
    tail_c1s: dict[str, list[int]] = {}
    in_order = True  # column 1 never went down (each remainder's column 1 ids are sorted)
    last = 0

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

    def rest_of(rest: str) -> int:
        hit = rest_id.get(rest)
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
        hit = rest_id[rest] = rests.setdefault((eff, dele, int(mod_s), rat), len(rests) + 1)
        return hit

    def add_tail(tail: str) -> None:
        if tail[5:6] != "\t":
            raise NotPlain  # a short line, or column 2 not 5 characters wide
        c2 = code(tail[:5])
        tail_value[tail] = rest_of(tail[6:]) << REST_SHIFT | c2
        tail_c1s[tail] = []

    append = list.append
    for text in table.text_blocks(BLOCK_CHARS):
        if '"' in text:
            raise NotPlain
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if "\r" in text:
                raise NotPlain
        values: list[int] = []  # the block's packed edits as column 1, in file order
        runs: list[tuple[int, int]] = []  # (column 1 id, where its run ends in `values`)
        n, at = len(text), 0
        while at < n:
            head = text[at:at + 6]
            if head[5:] != "\t":
                raise NotPlain  # a blank or short line, or column 1 not 5 characters wide
            c1 = code(head[:5])
            if c1 < last:
                in_order = False
            last = c1
            end = _run_end(text, at, head)
            tails = text[at + 6:end].split("\n" + head)
            if len(tails) - 1 != text.count("\n", at, end):  # a line of another code within (not sorted)
                end = text.find("\n", at, end)  # this line alone
                tails = [text[at + 6:end]]
            mark = len(values)
            try:
                values += map(tail_value.__getitem__, tails)
            except KeyError:  # new tails, taken in order (rationale and rest ids are in order of appearance)
                del values[mark:]  # those before the first new one went in
                for tail in filterfalse(tail_value.__contains__, tails):  # lazily: a tail added is known
                    add_tail(tail)
                values += map(tail_value.__getitem__, tails)
            deque(map(append, map(tail_c1s.__getitem__, tails), repeat(c1)), maxlen=0)
            runs.append((c1, len(values)))
            at = end + 1
        packed = pack(values)
        start = 0
        for c1, stop in runs:
            blob = packed[start * 8:stop * 8]
            had = by_c1.get(c1)
            by_c1[c1] = blob if had is None else had + blob  # a run cut by the block's end, or a code back
            start = stop
    deleted = {i for r, i in rests.items() if r[1] is not None}
    # Each column 2 code's edits: its remainders' column 1 lists by rest id, each list sorted when the
    # file is in column 1 order, so packed as they are (else, or when two remainders spell one
    # (column 2, rest), the code's edits are sorted).
    by_c2: dict[int, list[tuple[int, list[int]]]] = {}
    mixed: set[int] = set()  # column 2 ids whose edits need sorting
    for tail, value in sorted(tail_value.items(), key=itemgetter(1)):  # by rest id, then column 2
        c2, rest = value & ID_MASK, value >> REST_SHIFT
        c1s = tail_c1s[tail]
        found.rows += len(c1s)
        if rest not in deleted:
            found.active += len(c1s)
        lists = by_c2.get(c2)
        if lists is None:
            by_c2[c2] = [(rest, c1s)]
        else:
            if lists[-1][0] == rest:  # remainders that differ only in spelling
                mixed.add(c2)
            lists.append((rest, c1s))
    if not in_order:
        mixed = set(by_c2)
    found.by_c2 = {
        c2: pack(sorted(rest << REST_SHIFT | c1 for rest, c1s in lists for c1 in c1s)) if c2 in mixed
        else _pack_lists(lists)
        for c2, lists in by_c2.items()}
    return found
