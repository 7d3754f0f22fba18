"""NCCI procedure-to-procedure (PTP) edits: read the converted tables, render the "NCCI edits" section
(the conversion is `ncci_import.py`)."""
from __future__ import annotations

import functools
import itertools
import sqlite3
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

from ..errors import BuildError
from ..model import Section
from ..urls import modifier_path
from .db import cite, read_meta
from .ncci_import import GROUPED, ID_MASK, REST_SHIFT, SETTINGS, import_ptp, unpack, version_date
from .sections import Linker, Pages, code_list, details, esc, linker, plural, source
from .tabular import show_date

__all__ = ["MODIFIER", "SETTINGS", "PtpSource", "import_ptp", "layout", "render", "render_plain",
           "version_date"]

MODIFIER = {
    0: "modifier not allowed: the column 2 code is never paid with the column 1 code",
    1: "modifier allowed: an NCCI-associated modifier may bypass the edit when clinically appropriate",
    9: "not applicable: the edit no longer applies",
}


# The layouts of a converted file: "grouped" (`by_c1` / `by_c2`, see ncci_import.py), and the row per
# edit of `ptp` that files converted before hold (an imported file is not converted again), with
# `c1_rows` ("spans") or, older still, an index on column 1 ("rows").
Layout = Literal["grouped", "spans", "rows"]
# column 1, column 2, effective, deleted, modifier indicator, rationale
PairRow = tuple[str, str, "int | None", "int | None", int, str]


def layout(db: sqlite3.Connection) -> Layout:
    """Which layout a converted PTP file has."""
    tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if GROUPED in tables:
        return "grouped"
    if "ptp" not in tables:
        raise BuildError("an NCCI PTP file without edits (neither `by_c1` nor `ptp`): import it again "
                         "(coderef import ncci-ptp-practitioner FILE)")
    return "spans" if "c1_rows" in tables else "rows"


def null_first(value: int | None) -> tuple[bool, int]:
    """A sort key that orders None before any number, as SQLite's ORDER BY does."""
    return (value is not None, value or 0)


class PtpSource:
    """One imported PTP file, read code by code."""

    def __init__(self, kind: str, db: sqlite3.Connection) -> None:
        self.kind = kind
        self.db = db
        meta = read_meta(db)
        self.setting = meta.get("setting", SETTINGS[kind])
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")

    # Read when first asked (`PageSections.warm` asks ahead): the fast path of one hand-written page
    # only looks its code up in the `codes` table (premium/lists.py), and each file has ~15,000 codes.
    @functools.cached_property
    def ids(self) -> dict[str, int]:
        return {str(c): int(i) for i, c in self.db.execute("SELECT id, code FROM codes")}

    @functools.cached_property
    def names(self) -> dict[int, str]:
        return {i: c for c, i in self.ids.items()}

    @functools.cached_property
    def rationale(self) -> dict[int, str]:
        return {int(i): str(t) for i, t in self.db.execute("SELECT id, text FROM rationale")}

    @functools.cached_property
    def layout(self) -> Layout:
        return layout(self.db)

    @functools.cached_property
    def rests(self) -> dict[int, tuple[int | None, int | None, int, int | None]]:
        """Rest id -> (effective, deleted, modifier indicator, rationale id) of a "grouped" file."""
        return {int(i): (eff, dele, int(mod), rat) for i, eff, dele, mod, rat in self.db.execute(
            "SELECT id, eff, del, mod, rat FROM rest")} if self.layout == "grouped" else {}

    @functools.cached_property
    def active_rests(self) -> frozenset[int]:
        """The rest ids of a "grouped" file without a deletion date (edits in force)."""
        return frozenset(r for r, rest in self.rests.items() if rest[1] is None)

    def packed(self, cid: int, column: str) -> array[int]:
        """A "grouped" file's packed edits of code id `cid` as `column` ("c1" or "c2"): rest id <<
        REST_SHIFT | the other code's id, in file order as column 1, sorted as column 2."""
        row = self.db.execute(f"SELECT edits FROM by_{column} WHERE code = ?", (cid,)).fetchone()
        return unpack(row[0]) if row else unpack(b"")

    def rows_of(self, column: str) -> tuple[str, str]:
        """The FROM and WHERE clauses of a code's `ptp` rows (as `p`) with that code as `column` ("c1"
        or "c2"; its id is the one parameter) in a file of a row per edit."""
        if column == "c1" and self.layout == "spans":
            return "c1_rows s JOIN ptp p ON p.rowid BETWEEN s.first AND s.last", "s.c1 = ?"
        return "ptp p", f"p.{column} = ?"

    def has_active(self, code: str, column: str) -> bool:
        """Whether the code has an edit in force as `column` ("c1" or "c2")."""
        cid = self.ids.get(code)
        if cid is None:
            return False
        if self.layout == "grouped":
            active = self.active_rests
            return any(v >> REST_SHIFT in active for v in self.packed(cid, column))
        frm, where = self.rows_of(column)
        return self.db.execute(
            f"SELECT 1 FROM {frm} WHERE {where} AND p.del IS NULL LIMIT 1", (cid,)).fetchone() is not None

    def label(self) -> str:
        return cite(f"NCCI PTP edits ({self.setting})", self.release, self.file)

    def codes(self) -> set[str]:
        return set(self.ids)

    def edits(self, code: str, column: str) -> list[tuple[str, int | None, int | None, int, str]]:
        """The code's edits row by row: (other code, effective, deleted, modifier indicator, rationale);
        as column 1 in file order, as column 2 by column 1 code, effective date, deletion date,
        indicator and rationale."""
        cid = self.ids.get(code)
        if cid is None:
            return []
        if self.layout == "grouped":
            rows = [(v & ID_MASK, *self.rests[v >> REST_SHIFT]) for v in self.packed(cid, column)]
            if column == "c2":  # as the column 2 index of a file of a row per edit gave them
                rows.sort(key=lambda r: (r[0], null_first(r[1]), null_first(r[2]), r[3], null_first(r[4])))
        else:
            other = "c2" if column == "c1" else "c1"
            frm, where = self.rows_of(column)
            rows = self.db.execute(f"SELECT p.{other}, p.eff, p.del, p.mod, p.rat FROM {frm} WHERE {where}",
                                   (cid,)).fetchall()
        return [
            (self.names[o], eff, dele, mod, self.rationale.get(rat, "") if rat else "")
            for o, eff, dele, mod, rat in rows
        ]

    def grouped(self, code: str, column: str) -> list[Group]:
        """The code's edits grouped by what the section shows them under, ordered by (modifier
        indicator, rationale id, deletion date, effective date): Python touches each group once
        instead of each row (the busiest codes have 14,000 edits per file; `edits` is the row-by-row
        twin, see `pairs_of_edits`). A "grouped" file groups by rest, a file of a row per edit in
        SQLite (which joins the codes)."""
        cid = self.ids.get(code)
        if cid is None:
            return []
        if self.layout == "grouped":
            return self._grouped(cid, column)
        other = "c2" if column == "c1" else "c1"
        frm, where = self.rows_of(column)
        q = (f"SELECT p.mod, p.rat, p.del, p.eff, group_concat(c.code, ' ') FROM {frm} "
             f"JOIN codes c ON c.id = p.{other} WHERE {where} GROUP BY p.mod, p.rat, p.del, p.eff")
        return [
            (mod, self.rationale.get(rat, "") if rat else "", dele, eff, codes.split(" "))
            for mod, rat, dele, eff, codes in self.db.execute(q, (cid,))
        ]

    def _grouped(self, cid: int, column: str) -> list[Group]:
        by_rest: dict[int, list[int]] = {}
        for v in self.packed(cid, column):
            r = v >> REST_SHIFT
            found = by_rest.get(r)
            if found is None:
                by_rest[r] = [v & ID_MASK]
            else:
                found.append(v & ID_MASK)
        names, rests = self.names, self.rests

        def order(r: int) -> tuple[object, ...]:  # GROUP BY mod, rat, del, eff
            eff, dele, mod, rat = rests[r]
            return (mod, null_first(rat), null_first(dele), null_first(eff))

        out: list[Group] = []
        for r in sorted(by_rest, key=order):
            eff, dele, mod, rat = rests[r]
            text = self.rationale.get(rat, "") if rat else ""
            out.append((mod, text, dele, eff, [names[o] for o in by_rest[r]]))
        return out

    def pair_rows(self, a: str, b: str) -> list[PairRow]:
        """The edits of a pair of codes, either order: in force first, then the latest deletion; rows
        alike so far: a/b before b/a, then by effective date, indicator and rationale (the order the
        edits were listed in when an index gave it)."""
        ia, ib = self.ids.get(a), self.ids.get(b)
        if ia is None or ib is None:
            return []
        if self.layout == "grouped":
            rests = self.rests
            rows = [(ia, ib, *rests[v >> REST_SHIFT]) for v in self.packed(ia, "c1") if v & ID_MASK == ib]
            if ib != ia:
                rows += [(ib, ia, *rests[v >> REST_SHIFT])
                         for v in self.packed(ib, "c1") if v & ID_MASK == ia]
            rows.sort(key=lambda r: (r[3] is not None, -(r[3] or 0), r[0] != ia, null_first(r[2]), r[4],
                                     null_first(r[5])))
        else:
            rows = self.db.execute(
                "SELECT c1, c2, eff, del, mod, rat FROM ptp WHERE (c1=? AND c2=?) OR (c1=? AND c2=?) "
                "ORDER BY del IS NOT NULL, del DESC, c1 <> ?, eff, mod, rat", (ia, ib, ib, ia, ia)).fetchall()
        return [
            (self.names[c1], self.names[c2], eff, dele, mod, self.rationale.get(rat, "") if rat else "")
            for c1, c2, eff, dele, mod, rat in rows
        ]

    def edit_counts(self, column: str) -> dict[str, int]:
        """Code -> how many edits it has as `column` ("c1" or "c2")."""
        if self.layout == "grouped":
            q = f"SELECT c.code, length(b.edits) / 8 FROM by_{column} b JOIN codes c ON c.id = b.code"
        else:
            q = f"SELECT c.code, count(*) FROM ptp p JOIN codes c ON c.id = p.{column} GROUP BY p.{column}"
        return {str(code): int(n) for code, n in self.db.execute(q)}


# (modifier indicator, rationale, deletion date, effective date, the other codes) of a code's edits
Group = tuple[int, str, "int | None", "int | None", list[str]]
Edit = tuple[str, int | None, int | None, int, str]  # other code, effective, deleted, modifier, rationale


@dataclass(slots=True)
class Pairs:
    """One setting's edits of a code in one direction, grouped as the section shows them."""

    setting: str
    # (modifier indicator, rationale) -> the other codes of the active edits
    active: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    # (deletion date, modifier indicator) -> the other codes of the deleted edits
    deleted: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    since: dict[str, int] = field(default_factory=dict)  # code -> latest effective date of its active edits
    n_deleted: int = 0  # deleted edits (rows)

    def __bool__(self) -> bool:
        return bool(self.active or self.deleted)


def pairs_of_edits(setting: str, edits: list[Edit]) -> Pairs:
    """The plain reading, row by row (the twin of `pairs_of_groups`)."""
    out = Pairs(setting)
    for other, eff, dele, mod, rat in edits:
        if dele is None:
            out.active.setdefault((mod, rat), set()).add(other)
            if eff and eff > out.since.get(other, 0):
                out.since[other] = eff
        else:
            out.deleted.setdefault((dele, mod), set()).add(other)
            out.n_deleted += 1
    return out


def pairs_of_groups(setting: str, groups: list[Group]) -> Pairs:
    """`Pairs` from `PtpSource.grouped`: set operations on whole groups, per code only when the file
    dates its edits (the shipped ones do not)."""
    out = Pairs(setting)
    for mod, rat, dele, eff, codes in groups:
        if dele is None:
            found = out.active.get((mod, rat))
            if found is None:
                out.active[(mod, rat)] = set(codes)
            else:
                found.update(codes)
            if eff:
                for other in codes:
                    if eff > out.since.get(other, 0):
                        out.since[other] = eff
        else:
            found = out.deleted.get((dele, mod))
            if found is None:
                out.deleted[(dele, mod)] = set(codes)
            else:
                found.update(codes)
            out.n_deleted += len(codes)
    return out


# The modifiers CMS lists as NCCI-associated (NCCI Policy Manual, chapter I, E.1.d): with modifier
# indicator 1, one of them may bypass an edit. The HCPCS Level II ones have pages (/hcpcs/XS/);
# CPT's are the AMA's and are named only.
NCCI_ASSOCIATED = (
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD",
    "LM", "LT", "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "XE",
    "XP", "XS", "XU",
)
NCCI_ASSOCIATED_CPT = ("24", "25", "27", "57", "58", "59", "78", "79", "91")


@functools.cache
def associated_modifiers() -> str:
    """The NCCI-associated modifiers, the HCPCS Level II ones linked to their pages."""
    links = ", ".join(f'<a href="{modifier_path(m)}">{m}</a>' for m in NCCI_ASSOCIATED)
    return (
        f"<p>NCCI-associated modifiers (indicator 1): CPT {', '.join(NCCI_ASSOCIATED_CPT)}; "
        f"HCPCS Level II {links}.</p>"
    )


def _settings_label(settings: tuple[str, ...], all_settings: int) -> str:
    if len(settings) == all_settings and all_settings > 1:
        return "Practitioner and outpatient hospital"
    return " and ".join(settings).capitalize() + (" only" if all_settings > 1 else "")


Key = TypeVar("Key", tuple[int, str], tuple[int, int])


def _by_settings(
    per_setting: list[tuple[str, dict[Key, set[str]]]]
) -> dict[tuple[tuple[str, ...], Key], set[str]]:
    """Edits by the settings they apply in and their group (indicator and rationale, or deletion date
    and indicator): a code under one group in every setting listed goes under all of them, once.

    Whole sets are intersected, never code by code: the settings' lists of a busy code run to
    14,000 codes each."""
    out: dict[tuple[tuple[str, ...], Key], set[str]] = {}
    keys = dict.fromkeys(k for _, groups in per_setting for k in groups)
    for key in keys:
        present = [(setting, groups[key]) for setting, groups in per_setting if key in groups]
        if len(present) == 1:
            out[((present[0][0],), key)] = present[0][1]
            continue
        for size in range(len(present), 0, -1):
            for chosen in itertools.combinations(present, size):
                codes = set.intersection(*(c for _, c in chosen))
                for other in present:
                    if other not in chosen:
                        codes -= other[1]
                if codes:
                    out[(tuple(s for s, _ in chosen), key)] = codes
    return out


def _items(codes: set[str], since: dict[str, int], link: Linker) -> str:
    """The codes in code order (digits before letters: plain string order, as CODE_RE allows only
    0-9 and A-Z), each linked to its page, with the date its edit took effect when the file has it."""
    ordered = sorted(codes)
    if not since:
        return link.codes(ordered)
    return " ".join(
        f"<span>{link.code(o)} <small>since {show_date(since[o])}</small></span>" if o in since
        else link.code(o)
        for o in ordered
    )


def _active(per_setting: list[Pairs], link: Linker, n_settings: int) -> str:
    """Active edits grouped by the settings they apply in, modifier indicator and rationale.

    Most pairs are the same in both settings, so one list serves both and halves the page.
    """
    since: dict[str, int] = {}
    for p in per_setting:
        for other, eff in p.since.items():
            if eff > since.get(other, 0):
                since[other] = eff
    groups = _by_settings([(p.setting, p.active) for p in per_setting])
    parts = []
    for (settings, (mod, rat)), others in sorted(groups.items(), key=lambda g: (-len(g[0][0]), g[0])):
        head = (f"{esc(_settings_label(settings, n_settings))} · modifier indicator {mod} — "
                f"{esc(MODIFIER.get(mod, 'unknown'))}")
        if rat:
            head += f" · {esc(rat)}"
        parts.append(details(head, code_list(_items(others, since, link)), len(others)))
    return "".join(parts)


def _deleted(per_setting: list[Pairs], link: Linker, n_settings: int) -> str:
    """Deleted edits by deletion date, modifier indicator (it still governs claims with earlier dates
    of service) and the settings they were deleted in: codes only, newest first. As with the active
    ones, a pair deleted alike in both settings is listed once (the deleted lists were most of the
    busiest pages)."""
    groups = _by_settings([(p.setting, p.deleted) for p in per_setting])
    parts = []
    for (settings, (dele, mod)), others in sorted(
        groups.items(), key=lambda g: (-g[0][1][0], g[0][1][1], -len(g[0][0]), g[0][0])
    ):
        codes = link.codes(sorted(others), ", ")
        where = esc(_settings_label(settings, n_settings))
        parts.append(
            f"<p>{where}, deleted {show_date(dele)} · modifier indicator {mod} — "
            f"{esc(MODIFIER.get(mod, 'unknown'))} ({len(others):,}): {codes}</p>"
        )
    return "".join(parts)


def render(code: str, sources: list[PtpSource], pages: Pages | Linker) -> Section | None:
    """The "NCCI edits" section of `code` (None when no file names it)."""
    return render_pairs(code, sources, pages, lambda src, column: pairs_of_groups(
        src.setting, src.grouped(code, column)))


def render_plain(code: str, sources: list[PtpSource], pages: Pages | Linker) -> Section | None:
    """`render` reading the edits row by row (the twin its test compares it with)."""
    return render_pairs(code, sources, pages, lambda src, column: pairs_of_edits(
        src.setting, src.edits(code, column)))


def render_pairs(
    code: str, sources: list[PtpSource], pages: Pages | Linker, read: Callable[[PtpSource, str], Pairs]
) -> Section | None:
    link = linker(pages)
    blocks = []
    found = allowed = False
    for column, title in (
        ("c1", f"Column 2 codes bundled into {esc(code)} (this code is column 1)"),
        ("c2", f"Column 1 codes that {esc(code)} is bundled into (this code is column 2)"),
    ):
        per_setting = [p for p in (read(src, column) for src in sources) if p]
        if not per_setting:
            continue
        found = True
        active = [p for p in per_setting if p.active]
        n_active = len(set().union(*(c for p in active for c in p.active.values())))
        n_deleted = sum(p.n_deleted for p in per_setting)
        allowed = allowed or any(k[0] == 1 for p in active for k in p.active) or any(
            k[1] == 1 for p in per_setting for k in p.deleted)
        inner = _active(active, link, len(sources)) if n_active else "<p>No active edits.</p>"
        if n_deleted:
            inner += details("Deleted edits (for claims with earlier dates of service)",
                             _deleted(per_setting, link, len(sources)), n_deleted, open_=False)
        summary = f"{title}: {plural(n_active, 'active code')}"
        if n_deleted:
            summary += f", {plural(n_deleted, 'deleted edit')}"
        blocks.append(details(summary, inner, None, open_=n_active <= 30))
    if not found:
        return None
    intro = (
        "<p>When both codes of a pair are reported for the same patient and date of service by the same "
        "provider, the column 2 code is not paid unless the modifier indicator allows an NCCI-associated "
        "modifier (0 = not allowed, 1 = allowed, 9 = not applicable).</p>"
    )
    if allowed:  # some edit of the page has modifier indicator 1
        intro += associated_modifiers()
    cites = "".join(source(src.label()) for src in sources if src.ids.get(code) is not None)
    html = f'<div class="ncci">{intro}{"".join(blocks)}{cites}</div>'
    return Section(id="ncci-edits", kind="ncci-ptp", title="NCCI edits", html=html)
