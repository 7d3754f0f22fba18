"""Comparing two quarterly NCCI PTP or MUE releases held (normalised SQLite files), set-based in SQL.

PTP files hold 2.5 million edits: the two releases are compared with two `EXCEPT`s over (column 1,
column 2, deletion date, modifier indicator), the old file's code ids mapped to the new file's, so
only the edits that differ come back to Python (a few seconds for the full practitioner file). The
result is cached as JSON beside the converted files, keyed on both files' identities.
"""
from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..premium.files import stat_key
from ..premium.tabular import show_date

CACHE_VERSION = "1"


@dataclass(frozen=True, slots=True)
class EditState:
    """An NCCI edit (column 1 / column 2 pair) in one release: in force or deleted, and its modifier
    indicator (of the row in force, else of the latest deleted one)."""

    deleted: str  # the deletion date ("" while in force)
    modifier: int


@dataclass(frozen=True, slots=True)
class EditChange:
    column1: str
    column2: str
    kind: str  # "added", "deleted", "modifier", "reinstated", "deletion date", "removed"
    old: EditState | None
    new: EditState | None


@dataclass(frozen=True, slots=True)
class MueChange:
    code: str
    kind: str  # "added", "removed", "value", "indicator", "value and indicator"
    old: tuple[tuple[int, int], ...]  # (value, adjudication indicator) rows, sorted
    new: tuple[tuple[int, int], ...]


def _state(rows: list[tuple[int | None, int]]) -> EditState | None:
    if not rows:
        return None
    active = [m for d, m in rows if d is None]
    if active:
        return EditState("", min(active))
    last = max(rows, key=lambda r: r[0] or 0)
    return EditState(show_date(last[0]), last[1])


def _edit_kind(old: EditState | None, new: EditState | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if not old.deleted and new.deleted:
        return "deleted"
    if old.deleted and not new.deleted:
        return "reinstated"
    if old.modifier != new.modifier:
        return "modifier"
    return "deletion date"


def compare_ptp(old: Path, new: Path) -> list[EditChange]:
    """The edits whose state differs between two PTP files, in code order."""
    db = sqlite3.connect("file::memory:", uri=True)
    try:
        db.execute("ATTACH ? AS o", (f"file:{old}?mode=ro",))
        db.execute("ATTACH ? AS n", (f"file:{new}?mode=ro",))
        # The old file's code ids as the new file's (a code the new file lacks: minus its old id).
        db.execute("CREATE TEMP TABLE m(oid INTEGER PRIMARY KEY, nid INTEGER NOT NULL)")
        db.execute("INSERT INTO m SELECT o.id, COALESCE(n.id, -o.id) FROM o.codes o "
                   "LEFT JOIN n.codes n USING(code)")
        mapped = ("SELECT m1.nid, m2.nid, p.del, p.mod FROM o.ptp p JOIN m m1 ON m1.oid = p.c1 "
                  "JOIN m m2 ON m2.oid = p.c2")
        plain = "SELECT c1, c2, del, mod FROM n.ptp"
        pairs = {(a, b) for a, b, _, _ in db.execute(f"{plain} EXCEPT {mapped}")}
        pairs |= {(a, b) for a, b, _, _ in db.execute(f"{mapped} EXCEPT {plain}")}
        new_code = {int(i): str(c) for i, c in db.execute("SELECT id, code FROM n.codes")}
        old_code = {int(i): str(c) for i, c in db.execute("SELECT id, code FROM o.codes")}
        old_id = {c: i for i, c in old_code.items()}

        def text(nid: int) -> str:
            return new_code[nid] if nid > 0 else old_code[-nid]

        # A pair's rows in a fixed order: `_state` keeps the first of rows deleted on the same date.
        rows_of = "SELECT del, mod FROM {}.ptp WHERE c1 = ? AND c2 = ? ORDER BY eff, del, mod, rat"
        out = []
        for a, b in pairs:
            c1, c2 = text(a), text(b)
            now = [(d, int(m)) for d, m in db.execute(rows_of.format("n"), (a, b))] if a > 0 and b > 0 else []
            o1, o2 = old_id.get(c1), old_id.get(c2)
            was = [(d, int(m)) for d, m in db.execute(rows_of.format("o"), (o1, o2))] if o1 and o2 else []
            before, after = _state(was), _state(now)
            if before != after:
                out.append(EditChange(c1, c2, _edit_kind(before, after), before, after))
    finally:
        db.close()
    return sorted(out, key=lambda e: (e.column1, e.column2))


def compare_mue(old: Path, new: Path) -> list[MueChange]:
    """The codes whose MUE rows differ between two MUE files, in code order."""
    def rows(path: Path) -> dict[str, tuple[tuple[int, int], ...]]:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            out: dict[str, list[tuple[int, int]]] = {}
            for code, value, mai in db.execute("SELECT code, value, mai FROM mue"):
                out.setdefault(str(code), []).append((int(value), int(mai)))
        finally:
            db.close()
        return {k: tuple(sorted(v)) for k, v in out.items()}

    a, b = rows(old), rows(new)
    out = []
    for code in sorted(a.keys() | b.keys()):
        was, now = a.get(code, ()), b.get(code, ())
        if was == now:
            continue
        if not was:
            kind = "added"
        elif not now:
            kind = "removed"
        else:
            values = [v for v, _ in was] != [v for v, _ in now]
            indicators = [m for _, m in was] != [m for _, m in now]
            kind = "value and indicator" if values and indicators else "value" if values else "indicator"
        out.append(MueChange(code, kind, was, now))
    return out


@functools.cache
def _code_version() -> str:
    """A changed comparison must not reuse the cached results of the old one."""
    return hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()


def cached_compare(cache: Path, kind: str, old: Path, new: Path) -> list[EditChange] | list[MueChange]:
    """`compare_ptp` or `compare_mue` of two files, computed once per pair of file identities."""
    key = hashlib.blake2b(
        f"{CACHE_VERSION}|{kind}|{stat_key(old)}|{stat_key(new)}|{_code_version()}".encode(),
        digest_size=12,
    ).hexdigest()
    path = cache / f"history-{kind}-{key}.json"
    is_mue = kind.startswith("mue")
    if path.exists():
        raw = json.loads(path.read_text(encoding="utf-8"))
        if is_mue:
            return [MueChange(c, k, tuple((v, m) for v, m in o), tuple((v, m) for v, m in n))
                    for c, k, o, n in raw]
        return [EditChange(a, b, k, EditState(*o) if o else None, EditState(*n) if n else None)
                for a, b, k, o, n in raw]
    found: list[EditChange] | list[MueChange]
    if is_mue:
        found = compare_mue(old, new)
        data: list[list[object]] = [[c.code, c.kind, c.old, c.new] for c in found]
    else:
        found = compare_ptp(old, new)
        data = [[e.column1, e.column2, e.kind, [e.old.deleted, e.old.modifier] if e.old else None,
                 [e.new.deleted, e.new.modifier] if e.new else None] for e in found]
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(path)
    return found
