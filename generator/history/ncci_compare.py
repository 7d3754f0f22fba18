"""Comparing two quarterly NCCI PTP or MUE releases held (normalised SQLite files).

PTP files hold 2.5 million edits: the two releases are compared column 1 code by column 1 code (its
packed edits, see generator/premium/ncci_import.py), the same bytes skipped whole, the others as sets
of (column 2, deletion date, modifier indicator). The result is cached as JSON beside the converted
files, keyed on both files' identities.
"""
from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ..premium import ncci
from ..premium.files import stat_key
from ..premium.ncci import null_first
from ..premium.ncci_import import ID_MASK, REST_SHIFT, Rest, code_id, pack, unpack
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


@dataclass(slots=True)
class _PtpFile:
    """A PTP file's edits by column 1 code, whichever layout it has (see `ncci.layout`)."""

    code: dict[int, str]  # id -> code
    rests: dict[int, Rest]  # rest id -> its values
    by_c1: dict[int, bytes]  # column 1 id -> packed edits (rest id << REST_SHIFT | column 2 id)
    base36: bool  # every id is `code_id` of its code (so two such files' ids agree)


def _read_ptp(path: Path) -> _PtpFile:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        code = {int(i): str(c) for i, c in db.execute("SELECT id, code FROM codes")}
        base36 = all(i == code_id(c) for i, c in code.items())
        if ncci.layout(db) == "grouped":
            rests = {int(i): (eff, dele, int(mod), rat)
                     for i, eff, dele, mod, rat in db.execute("SELECT id, eff, del, mod, rat FROM rest")}
            by_c1 = {int(c): bytes(b) for c, b in db.execute("SELECT code, edits FROM by_c1")}
            return _PtpFile(code, rests, by_c1, base36)
        # A file of a row per edit (converted before the grouped layout): grouped here.
        ids: dict[Rest, int] = {}
        lists: dict[int, list[int]] = {}
        for c1, c2, eff, dele, mod, rat in db.execute("SELECT c1, c2, eff, del, mod, rat FROM ptp"):
            rid = ids.setdefault((eff, dele, int(mod), rat), len(ids) + 1)
            lists.setdefault(int(c1), []).append(rid << REST_SHIFT | int(c2))
        return _PtpFile(code, {i: r for r, i in ids.items()}, {c: pack(v) for c, v in lists.items()}, base36)
    finally:
        db.close()


def compare_ptp(old: Path, new: Path) -> list[EditChange]:
    """The edits whose state differs between two PTP files, in code order: a pair differs when its
    set of (deletion date, modifier indicator) differs. Column 1 codes whose packed edits are the same
    bytes in both files (with ids and rests that mean the same) are skipped whole; the others are
    compared as sets of (column 2, deletion date, modifier indicator)."""
    o, n = _read_ptp(old), _read_ptp(new)
    same_bytes = o.base36 and n.base36 and all(
        n.rests[r][1:3] == v[1:3] for r, v in o.rests.items() if r in n.rests)
    o_id = {c: i for i, c in o.code.items()}
    n_id = {c: i for i, c in n.code.items()}
    # (deletion date, indicator) -> one number shared by both files
    dm: dict[tuple[int | None, int], int] = {}
    o_dm = {r: dm.setdefault((v[1], v[2]), len(dm)) for r, v in o.rests.items()}
    n_dm = {r: dm.setdefault((v[1], v[2]), len(dm)) for r, v in n.rests.items()}

    def keys(f: _PtpFile, dms: dict[int, int], blob: bytes) -> set[tuple[str, int]]:
        """(column 2, deletion date and indicator number) of each edit."""
        code = f.code
        return {(code[v & ID_MASK], dms[v >> REST_SHIFT]) for v in unpack(blob)}

    def rows(f: _PtpFile, ids: dict[str, int], blob: bytes, c2: str) -> list[tuple[int | None, int]]:
        """A pair's (deletion date, indicator) rows ordered by effective date, deletion date,
        indicator and rationale (`_state` keeps the first of rows deleted on the same date)."""
        want = ids.get(c2)
        found = [f.rests[v >> REST_SHIFT] for v in unpack(blob) if v & ID_MASK == want]
        found.sort(key=lambda r: (null_first(r[0]), null_first(r[1]), r[2], null_first(r[3])))
        return [(d, m) for _, d, m, _ in found]

    out = []
    for c1 in sorted(o_id.keys() | n_id.keys()):
        ob = o.by_c1.get(o_id.get(c1, 0), b"")
        nb = n.by_c1.get(n_id.get(c1, 0), b"")
        if ob == nb and same_bytes:
            continue
        was_keys, now_keys = keys(o, o_dm, ob), keys(n, n_dm, nb)
        if was_keys == now_keys:
            continue
        for c2 in sorted({c for c, _ in was_keys ^ now_keys}):
            before, after = _state(rows(o, o_id, ob, c2)), _state(rows(n, n_id, nb, c2))
            if before != after:
                out.append(EditChange(c1, c2, _edit_kind(before, after), before, after))
    return out


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
