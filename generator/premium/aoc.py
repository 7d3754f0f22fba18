"""NCCI add-on code (AOC) edits: which primary codes an add-on code may be reported with."""
from __future__ import annotations

import sqlite3
from collections import defaultdict
from pathlib import Path

from ..errors import BuildError
from ..model import Section
from .db import ImportResult, Output, cite, read_meta, release_label
from .sections import Linker, Pages, code_list, details, esc, linker, source
from .tabular import CODE_RE, Column, Table, parse_date

NO_PRIMARY = "CCCCC"  # CMS's marker for "no specific primary codes"

COLUMNS = (
    Column("add-on code", ("addoncode", "aoc", "addon")),
    Column("primary code", ("primarycode", "primary")),
    Column("AOC edit type", ("aocedittype", "edittype", "type")),
    Column("AOC edit effective date", ("aocediteffectivedate", "editeffectivedate"), required=False),
    Column("AOC edit deletion date", ("aoceditdeletiondate", "editdeletiondate"), required=False),
)

EDIT_TYPE = {
    1: "Type 1: only the listed primary codes are eligible",
    2: "Type 2: CMS lists no primary codes; the Medicare contractor decides which primary codes are eligible",
    3: "Type 3: some primary codes are listed; the contractor may accept other primary codes too",
}

SCHEMA = "CREATE TABLE aoc(addon TEXT NOT NULL, prim TEXT, type INTEGER NOT NULL, eff INTEGER, del INTEGER);"
INDEXES = "CREATE INDEX aoc_addon ON aoc(addon); CREATE INDEX aoc_prim ON aoc(prim);"


def import_aoc(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    table = Table(path, COLUMNS, "an NCCI add-on code edit file (add-on code / primary code / AOC edit type)")
    o = Output(out, SCHEMA)
    rows = 0
    batch = []
    try:
        for line, cells in table.rows():
            addon = table.get(cells, "add-on code").upper()
            prim = table.get(cells, "primary code").upper()
            if not CODE_RE.match(addon) or not (CODE_RE.match(prim) or prim == NO_PRIMARY):
                raise BuildError(
                    f"{path}:{line}: add-on code '{addon}' / primary code '{prim}' are not 5-character codes"
                )
            etype = table.get(cells, "AOC edit type")[:1]
            if etype not in ("1", "2", "3"):
                raise BuildError(f"{path}:{line}: AOC edit type '{etype}' must be 1, 2 or 3")
            try:
                eff = parse_date(table.get(cells, "AOC edit effective date"))
                dele = parse_date(table.get(cells, "AOC edit deletion date"))
            except ValueError as exc:
                raise BuildError(f"{path}:{line}: {exc}") from None
            batch.append((addon, None if prim == NO_PRIMARY else prim, int(etype), eff, dele))
            rows += 1
        if not rows:
            raise BuildError(f"{path}: no add-on code rows found below the header")
        o.db.executemany("INSERT INTO aoc VALUES (?,?,?,?,?)", batch)
        rel = release_label(release, "", path)
        o.commit({"kind": kind, "release": rel, "source_file": path.name, "rows": str(rows)}, INDEXES)
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)


Aoc = tuple["str | None", int, "int | None"]  # the other code (None: any primary), edit type, deleted


class AocSource:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        meta = read_meta(db)
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")
        self._by_code: tuple[dict[str, list[Aoc]], dict[str, list[Aoc]]] | None = None

    def codes(self) -> set[str]:
        found = {str(r[0]) for r in self.db.execute("SELECT DISTINCT addon FROM aoc")}
        found |= {str(r[0]) for r in self.db.execute("SELECT DISTINCT prim FROM aoc WHERE prim IS NOT NULL")}
        return found

    def as_addon(self, code: str) -> list[tuple[str | None, int, int | None]]:
        return list(self.db.execute("SELECT prim, type, del FROM aoc WHERE addon=?", (code,)))

    def as_primary(self, code: str) -> list[tuple[str, int, int | None]]:
        return list(self.db.execute("SELECT addon, type, del FROM aoc WHERE prim=?", (code,)))

    def by_code(self) -> tuple[dict[str, list[Aoc]], dict[str, list[Aoc]]]:
        """Every code's `as_addon` and `as_primary` rows, read in one pass the first time (7,000 rows)."""
        if self._by_code is None:
            addon: dict[str, list[Aoc]] = {}
            primary: dict[str, list[Aoc]] = {}
            for a, p, t, d in self.db.execute("SELECT addon, prim, type, del FROM aoc ORDER BY rowid"):
                addon.setdefault(a, []).append((p, t, d))
                if p is not None:
                    primary.setdefault(p, []).append((a, t, d))
            self._by_code = (addon, primary)
        return self._by_code


def render(code: str, src: AocSource, pages: Pages | Linker) -> Section | None:
    link = linker(pages)
    parts = []
    by_addon, by_primary = src.by_code()
    as_addon = [r for r in by_addon.get(code, ()) if r[2] is None]
    as_primary = [(str(a), t, d) for a, t, d in by_primary.get(code, ()) if d is None]
    if as_addon:
        types = sorted({t for _, t, _ in as_addon})
        prims = sorted({p for p, _, _ in as_addon if p})
        parts.append(f"<p>{esc(code)} is an add-on code: report it only with a primary service.</p>")
        parts.append("<ul>" + "".join(f"<li>{esc(EDIT_TYPE.get(t, str(t)))}</li>" for t in types) + "</ul>")
        if prims:
            parts.append(
                details("Eligible primary codes", code_list(link.codes(prims)), len(prims))
            )
    if as_primary:
        by_type: dict[int, set[str]] = defaultdict(set)
        for addon, t, _ in as_primary:
            by_type[t].add(addon)
        parts.append(f"<p>Add-on codes that may be reported with {esc(code)} as the primary code:</p>")
        for t, addons in sorted(by_type.items()):
            parts.append(details(esc(EDIT_TYPE.get(t, str(t))),
                                 code_list(link.codes(sorted(addons))), len(addons)))
    if not parts:
        return None
    parts.append(source(cite("NCCI add-on code edits", src.release, src.file)))
    return Section(id="add-on-codes", kind="add-on-codes", title="Add-on codes", html="".join(parts))
