"""NCCI procedure-to-procedure (PTP) edits: import the CMS tables, render the "NCCI edits" section."""
from __future__ import annotations

import functools
import re
import sqlite3
from collections import defaultdict
from pathlib import Path

from ..errors import BuildError
from ..model import Section
from ..urls import modifier_path
from .db import ImportResult, Output, cite, read_meta, release_label
from .sections import Linker, Pages, code_list, details, esc, linker, plural, source
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

MODIFIER = {
    0: "modifier not allowed: the column 2 code is never paid with the column 1 code",
    1: "modifier allowed: an NCCI-associated modifier may bypass the edit when clinically appropriate",
    9: "not applicable: the edit no longer applies",
}

SCHEMA = """
CREATE TABLE codes(id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE);
CREATE TABLE rationale(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE ptp(c1 INTEGER NOT NULL, c2 INTEGER NOT NULL, eff INTEGER, del INTEGER,
                 mod INTEGER NOT NULL, rat INTEGER);
"""
# Covering indexes: a code's edits are read from consecutive index pages, not rows all over the table.
INDEXES = ("CREATE INDEX ptp_c1 ON ptp(c1, c2, eff, del, mod, rat); "
           "CREATE INDEX ptp_c2 ON ptp(c2, c1, eff, del, mod, rat);")
BATCH = 50_000


def version_date(name: str) -> str:
    """NCCI file names carry the version: 'ccipra-v302r0' is version 30.2, effective 2024-07-01
    (version 30 is 2024; .0-.3 are the quarters)."""
    m = re.search(r"v(\d\d)([0-3])r\d", name.lower())
    if not m:
        return ""
    return f"{1994 + int(m[1])}-{int(m[2]) * 3 + 1:02d}-01"


def import_ptp(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    setting = SETTINGS[kind]
    table = Table(path, COLUMNS, "an NCCI PTP edit file (column 1 / column 2 / modifier indicator)")
    o = Output(out, SCHEMA)
    codes: dict[str, int] = {}
    rats: dict[str, int] = {}
    batch: list[tuple[int, int, int | None, int | None, int, int | None]] = []
    rows = active = 0
    max_eff = 0
    # 2.5 million rows: the loop avoids per-cell helper calls, and dates repeat, so they are parsed once each.
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

    try:
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
                o.db.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?)", batch)
                batch.clear()
        if not rows:
            raise BuildError(f"{path}: no edits found below the header")
        o.db.executemany("INSERT INTO ptp VALUES (?,?,?,?,?,?)", batch)
        o.db.executemany("INSERT INTO codes VALUES (?, ?)", [(i, c) for c, i in codes.items()])
        o.db.executemany("INSERT INTO rationale VALUES (?, ?)", [(i, t) for t, i in rats.items()])
        rel = release_label(release, version_date(path.name) or (show_date(max_eff) if max_eff else ""), path)
        o.commit({"kind": kind, "setting": setting, "release": rel, "source_file": path.name,
                  "rows": str(rows), "active": str(active)}, INDEXES)
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out, f"{active:,} active")


class PtpSource:
    """One imported PTP file, read code by code."""

    def __init__(self, kind: str, db: sqlite3.Connection) -> None:
        self.kind = kind
        self.db = db
        meta = read_meta(db)
        self.setting = meta.get("setting", SETTINGS[kind])
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")
        self.ids = {str(c): int(i) for i, c in db.execute("SELECT id, code FROM codes")}
        self.names = {i: c for c, i in self.ids.items()}
        self.rationale = {int(i): str(t) for i, t in db.execute("SELECT id, text FROM rationale")}

    def label(self) -> str:
        return cite(f"NCCI PTP edits ({self.setting})", self.release, self.file)

    def codes(self) -> set[str]:
        return set(self.ids)

    def edits(self, code: str, column: str) -> list[tuple[str, int | None, int | None, int, str]]:
        cid = self.ids.get(code)
        if cid is None:
            return []
        this, other = ("c1", "c2") if column == "c1" else ("c2", "c1")
        q = f"SELECT {other}, eff, del, mod, rat FROM ptp WHERE {this}=?"
        return [
            (self.names[o], eff, dele, mod, self.rationale.get(rat, "") if rat else "")
            for o, eff, dele, mod, rat in self.db.execute(q, (cid,))
        ]


@functools.cache
def _sort_key(code: str) -> tuple[int, str]:
    return (0 if code[0].isdigit() else 1, code)


# The modifiers CMS lists as NCCI-associated (NCCI Policy Manual, chapter I, E.1.d): with modifier
# indicator 1, one of them may bypass an edit. The HCPCS Level II ones have pages (/hcpcs/XS/);
# CPT's are the AMA's and are named only.
NCCI_ASSOCIATED = (
    "E1", "E2", "E3", "E4", "FA", "F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "LC", "LD",
    "LM", "LT", "RC", "RI", "RT", "TA", "T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9", "XE",
    "XP", "XS", "XU",
)
NCCI_ASSOCIATED_CPT = ("24", "25", "27", "57", "58", "59", "78", "79", "91")


def associated_modifiers() -> str:
    """The NCCI-associated modifiers, the HCPCS Level II ones linked to their pages."""
    links = ", ".join(f'<a href="{modifier_path(m)}">{m}</a>' for m in NCCI_ASSOCIATED)
    return (
        f"<p>NCCI-associated modifiers (indicator 1): CPT {', '.join(NCCI_ASSOCIATED_CPT)}; "
        f"HCPCS Level II {links}.</p>"
    )


Edit = tuple[str, int | None, int | None, int, str]  # other code, effective, deleted, modifier, rationale


def _settings_label(settings: tuple[str, ...], all_settings: int) -> str:
    if len(settings) == all_settings and all_settings > 1:
        return "Practitioner and outpatient hospital"
    return " and ".join(settings).capitalize() + (" only" if all_settings > 1 else "")


def _active(per_setting: list[tuple[str, list[Edit]]], link: Linker, n_settings: int) -> str:
    """Active edits grouped by the settings they apply in, modifier indicator and rationale.

    Most pairs are the same in both settings, so one list serves both and halves the page.
    """
    where: dict[tuple[str, int, str], list[str]] = defaultdict(list)
    since: dict[str, int] = {}
    for setting, edits in per_setting:
        for other, eff, _dele, mod, rat in edits:
            key = (other, mod, rat)
            if setting not in where[key]:
                where[key].append(setting)
            if eff and eff > since.get(other, 0):
                since[other] = eff
    groups: dict[tuple[tuple[str, ...], int, str], list[str]] = defaultdict(list)
    for (other, mod, rat), found_in in where.items():
        groups[(tuple(found_in), mod, rat)].append(other)
    parts = []
    for (settings, mod, rat), others in sorted(groups.items(), key=lambda g: (-len(g[0][0]), g[0])):
        items = [
            link.code(o) + (f" <small>since {show_date(since[o])}</small>" if o in since else "")
            for o in sorted(set(others), key=_sort_key)
        ]
        head = (f"{esc(_settings_label(settings, n_settings))} · modifier indicator {mod} — "
                f"{esc(MODIFIER.get(mod, 'unknown'))}")
        if rat:
            head += f" · {esc(rat)}"
        parts.append(details(head, code_list(items), len(items)))
    return "".join(parts)


def _deleted(per_setting: list[tuple[str, list[Edit]]], link: Linker) -> str:
    """Deleted edits by setting, deletion date and modifier indicator (it still governs claims with
    earlier dates of service): codes only, newest first."""
    parts = []
    for setting, edits in per_setting:
        by_date: dict[tuple[int, int], set[str]] = defaultdict(set)
        for other, _eff, dele, mod, _rat in edits:
            if dele is not None:
                by_date[(dele, mod)].add(other)
        for (dele, mod), others in sorted(by_date.items(), key=lambda g: (-g[0][0], g[0][1])):
            codes = ", ".join(link.code(o) for o in sorted(others, key=_sort_key))
            parts.append(
                f"<p>{esc(setting.capitalize())}, deleted {show_date(dele)} · modifier indicator {mod} — "
                f"{esc(MODIFIER.get(mod, 'unknown'))} ({len(others):,}): {codes}</p>"
            )
    return "".join(parts)


def render(code: str, sources: list[PtpSource], pages: Pages | Linker) -> Section | None:
    link = linker(pages)
    blocks = []
    found = False
    for column, title in (
        ("c1", f"Column 2 codes bundled into {esc(code)} (this code is column 1)"),
        ("c2", f"Column 1 codes that {esc(code)} is bundled into (this code is column 2)"),
    ):
        per_setting = [(src.setting, src.edits(code, column)) for src in sources]
        per_setting = [(s, e) for s, e in per_setting if e]
        if not per_setting:
            continue
        found = True
        active = [(s, [e for e in edits if e[2] is None]) for s, edits in per_setting]
        n_active = len({e[0] for _, edits in active for e in edits})
        n_deleted = sum(1 for _, edits in per_setting for e in edits if e[2] is not None)
        inner = (
            _active([(s, e) for s, e in active if e], link, len(sources))
            if n_active
            else "<p>No active edits.</p>"
        )
        if n_deleted:
            inner += details("Deleted edits (for claims with earlier dates of service)",
                             _deleted(per_setting, link), n_deleted, open_=False)
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
    if "modifier indicator 1" in "".join(blocks):
        intro += associated_modifiers()
    cites = "".join(source(src.label()) for src in sources if src.ids.get(code) is not None)
    html = f'<div class="ncci">{intro}{"".join(blocks)}{cites}</div>'
    return Section(id="ncci-edits", kind="ncci-ptp", title="NCCI edits", html=html)
