"""The CMS Medicare Coverage Database list of LCDs and Articles: IDs, contractors, dates, titles."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from ..errors import BuildError
from .db import ImportResult, Output, release_label
from .tabular import norm, open_text, parse_date, show_date

# column -> accepted header names (normalised: no case, spaces or punctuation); None = optional
COLUMNS: dict[str, tuple[tuple[str, ...], bool]] = {
    "document display id": (("documentdisplayid", "displayid", "lcdid", "articleid"), True),
    "document type": (("documenttype", "type"), True),
    "title": (("title", "documenttitle"), True),
    "contractor": (("contractornametype", "contractorname", "contractor"), True),
    "effective date": (("effectivedate", "originaleffectivedate"), False),
    "retirement date": (("retirementdate", "enddate"), False),
    "version": (("documentversion", "version"), False),
    "updated": (("updatedon", "lastupdated"), False),
    "url": (("url", "link"), False),
}

SCHEMA = """
CREATE TABLE lcd(id TEXT NOT NULL, type TEXT NOT NULL, title TEXT NOT NULL, contractor TEXT NOT NULL,
  effective TEXT NOT NULL, retired TEXT NOT NULL, version TEXT NOT NULL, updated TEXT NOT NULL,
  url TEXT NOT NULL);
"""
_ID = re.compile(r"^[LA]\d{5}$")
_URL = re.compile(r"^https://www\.cms\.gov/medicare-coverage-database/[\w./?=&%-]+$")


class _Rows:
    """The CSV (quoted fields may hold line breaks: contractor names do), columns found by header name."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh = open_text(path)
        self.reader = csv.reader(self.fh)
        header = next(self.reader, [])
        names = [norm(h) for h in header]
        self.index: dict[str, int] = {}
        for col, (accepted, required) in COLUMNS.items():
            hit = next((names.index(a) for a in accepted if a in names), None)
            if hit is not None:
                self.index[col] = hit
            elif required:
                self.fh.close()
                raise BuildError(
                    f"{path}: not a CMS LCD/Article list: missing column '{col}' (found: "
                    f"{', '.join(repr(h) for h in header[:12]) or 'no header'})"
                )

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        try:
            for cells in self.reader:
                if any(c.strip() for c in cells):
                    yield self.reader.line_num, cells
        finally:
            self.fh.close()

    def get(self, cells: list[str], name: str) -> str:
        i = self.index.get(name)
        return cells[i].strip() if i is not None and i < len(cells) else ""


def _date(table: _Rows, cells: list[str], name: str, path: Path, line: int) -> str:
    raw = table.get(cells, name)
    if raw.upper() in ("N/A", "NA", ""):
        return ""
    try:
        return show_date(parse_date(raw))
    except ValueError as exc:
        raise BuildError(f"{path}:{line}: {name}: {exc}") from None


def import_lcd(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    """One row per document (an ID repeated for several contractors keeps every contractor)."""
    table = _Rows(path)
    o = Output(out, SCHEMA)
    rows = 0
    newest = ""
    batch = []
    try:
        for line, cells in table:
            doc_id = table.get(cells, "document display id").upper()
            if not _ID.match(doc_id):
                raise BuildError(f"{path}:{line}: '{doc_id}' is not an LCD or Article ID (L##### or A#####)")
            dtype = table.get(cells, "document type")
            if dtype.upper() not in ("LCD", "ARTICLE"):
                raise BuildError(f"{path}:{line}: document type '{dtype}' must be LCD or Article")
            url = table.get(cells, "url")
            updated = _date(table, cells, "updated", path, line)
            newest = max(newest, updated)
            batch.append(
                (
                    doc_id,
                    "LCD" if dtype.upper() == "LCD" else "Article",
                    " ".join(table.get(cells, "title").split()),
                    " ".join(table.get(cells, "contractor").split()),
                    _date(table, cells, "effective date", path, line),
                    _date(table, cells, "retirement date", path, line),
                    table.get(cells, "version"),
                    updated,
                    url if _URL.match(url) else "",
                )
            )
            rows += 1
        if not rows:
            raise BuildError(f"{path}: no LCDs or Articles found below the header")
        o.db.executemany("INSERT INTO lcd VALUES (?,?,?,?,?,?,?,?,?)", batch)
        rel = release_label(release, f"updated to {newest}" if newest else "", path)
        o.commit(
            {"kind": kind, "release": rel, "source_file": path.name, "rows": str(rows)},
            "CREATE INDEX lcd_id ON lcd(id);",
        )
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)
