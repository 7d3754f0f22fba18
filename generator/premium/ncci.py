"""NCCI procedure-to-procedure (PTP) edits: import the CMS tables, render the "NCCI edits" section."""
from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Collection, Mapping
from pathlib import Path

from ..errors import BuildError
from ..model import Section
from .db import ImportResult, Output, cite, read_meta, release_label
from .sections import Linker, code_list, details, esc, plural, source
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
INDEXES = "CREATE INDEX ptp_c1 ON ptp(c1); CREATE INDEX ptp_c2 ON ptp(c2);"
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
    try:
        for line, cells in table.rows():
            c1, c2 = table.get(cells, "column 1").upper(), table.get(cells, "column 2").upper()
            if not CODE_RE.match(c1) or not CODE_RE.match(c2):
                raise BuildError(f"{path}:{line}: column 1 '{c1}' / column 2 '{c2}' is not a pair of 5-character codes")
            mod_s = table.get(cells, "modifier indicator")[:1]
            if mod_s not in ("0", "1", "9"):
                raise BuildError(f"{path}:{line}: modifier indicator '{mod_s}' must be 0, 1 or 9")
            try:
                eff = parse_date(table.get(cells, "effective date"))
                dele = parse_date(table.get(cells, "deletion date"))
            except ValueError as exc:
                raise BuildError(f"{path}:{line}: {exc}") from None
            rat_text = table.get(cells, "rationale")
            rat = None
            if rat_text:
                rat = rats.setdefault(rat_text, len(rats) + 1)
            i1 = codes.setdefault(c1, len(codes) + 1)
            i2 = codes.setdefault(c2, len(codes) + 1)
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


def _sort_key(code: str) -> tuple[int, str]:
    return (0 if code[0].isdigit() else 1, code)


def _grouped(edits: list[tuple[str, int | None, int | None, int, str]], link: Linker) -> str:
    """Active edits grouped by modifier indicator and rationale, each list counted."""
    groups: dict[tuple[int, str], dict[str, int | None]] = defaultdict(dict)
    for other, eff, _dele, mod, rat in edits:
        seen = groups[(mod, rat)]
        if other not in seen or (eff or 0) > (seen[other] or 0):
            seen[other] = eff
    parts = []
    for (mod, rat), entries in sorted(groups.items()):
        items = []
        for other in sorted(entries, key=_sort_key):
            eff = entries[other]
            note = f' <small>since {show_date(eff)}</small>' if eff else ""
            items.append(link.code(other) + note)
        head = f"Modifier indicator {mod} — {esc(MODIFIER.get(mod, 'unknown'))}"
        if rat:
            head += f"; rationale: {esc(rat)}"
        parts.append(details(head, code_list(items), len(items)))
    return "".join(parts)


def _deleted(edits: list[tuple[str, int | None, int | None, int, str]], link: Linker, col: str) -> str:
    rows = sorted(edits, key=lambda e: (-(e[2] or 0), _sort_key(e[0])))
    body = "".join(
        f"<tr><td>{link.code(o)}</td><td>{show_date(eff) or '—'}</td><td>{show_date(dele)}</td>"
        f"<td>{mod}</td><td>{esc(rat)}</td></tr>"
        for o, eff, dele, mod, rat in rows
    )
    return (
        f'<table class="ncci-deleted"><thead><tr><th scope="col">{col}</th><th scope="col">Effective</th>'
        f'<th scope="col">Deleted</th><th scope="col">Modifier</th><th scope="col">Rationale</th></tr></thead>'
        f"<tbody>{body}</tbody></table>"
    )


def render(code: str, sources: list[PtpSource], pages: Mapping[str, Collection[str]]) -> Section | None:
    link = Linker(pages)
    blocks = []
    total = 0
    for src in sources:
        as_c1 = src.edits(code, "c1")
        as_c2 = src.edits(code, "c2")
        if not as_c1 and not as_c2:
            continue
        total += len(as_c1) + len(as_c2)
        part = [f"<h3>{esc(src.setting.capitalize())} edits</h3>", source(src.label())]
        for edits, title, col in (
            (as_c1, f"Column 2 codes bundled into {esc(code)} (this code is column 1)", "Column 2 code"),
            (as_c2, f"Column 1 codes that {esc(code)} is bundled into (this code is column 2)", "Column 1 code"),
        ):
            active = [e for e in edits if e[2] is None]
            deleted = [e for e in edits if e[2] is not None]
            if not edits:
                continue
            n_active = len({e[0] for e in active})
            inner = _grouped(active, link) if active else "<p>No active edits.</p>"
            if deleted:
                inner += details("Deleted edits (kept for claims with earlier dates of service)",
                                 _deleted(deleted, link, col), len(deleted), open_=False)
            summary = f"{title}: {plural(n_active, 'active code')}"
            if deleted:
                summary += f", {plural(len(deleted), 'deleted edit')}"
            part.append(details(summary, inner, None, open_=n_active <= 30))
        blocks.append("".join(part))
    if not blocks:
        return None
    intro = (
        "<p>When both codes of a pair are reported for the same patient on the same date of service by the "
        "same provider, the column 2 code is not paid unless the modifier indicator allows an NCCI-associated "
        "modifier (0 = not allowed, 1 = allowed, 9 = not applicable).</p>"
    )
    html = f'<div class="ncci">{intro}{"".join(blocks)}</div>'
    return Section(id="ncci-edits", kind="ncci-ptp", title="NCCI edits", html=html)
