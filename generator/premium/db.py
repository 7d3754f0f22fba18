"""The normalised premium data files: one SQLite file per import kind, replaced atomically."""
from __future__ import annotations

import os
import re
import sqlite3
from datetime import date
from pathlib import Path

from ..config import SiteConfig

SUBDIR = "premium"


def data_file(cfg: SiteConfig, kind: str) -> Path:
    return cfg.data_path / SUBDIR / f"{kind}.sqlite"


class Output:
    """A new normalised file written beside the old one and renamed over it on `commit()`."""

    def __init__(self, path: Path, schema: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.tmp = path.with_name(path.name + ".new")
        if self.tmp.exists():
            self.tmp.unlink()
        self.db = sqlite3.connect(self.tmp, isolation_level=None)
        # The file is rebuilt from scratch, so durability before the rename buys nothing.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self.db.executescript(schema)
        self.db.execute("BEGIN")

    def commit(self, meta: dict[str, str], indexes: str = "", analysis_limit: int = 0) -> None:
        """Writes `meta`, creates `indexes`, gathers the planner's statistics (from `analysis_limit`
        rows of each index, 0 = all) and renames the file in."""
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(meta.items()))
        if indexes:
            self.db.executescript(indexes)  # executescript commits the open transaction first
        else:
            self.db.execute("COMMIT")
        if analysis_limit:
            self.db.execute(f"PRAGMA analysis_limit={int(analysis_limit)}")
        self.db.execute("ANALYZE")
        self.db.close()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.db.close()
        if self.tmp.exists():
            self.tmp.unlink()


def connect(path: Path) -> sqlite3.Connection:
    """A normalised file opened read-only. The gate renders premium sections in a worker thread
    (one at a time, see generator/premium/ondemand.py), so the connection may cross threads."""
    if not path.is_file():  # SQLite would report "unable to open" without the name
        raise sqlite3.OperationalError(f"{path}: no such file")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


def read_meta(db: sqlite3.Connection) -> dict[str, str]:
    return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}


_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


def release_from_name(name: str) -> str:
    """A release date read from a CMS or re-export file name ('..._2024-07-01', '2024q3', 'RVU24C')."""
    low = name.lower()
    m = re.search(r"(20\d{2})-?(0[1-9]|1[0-2])-?([0-3]\d)", low)
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}"
    m = re.search(r"(?<!\d)(0[1-9]|1[0-2])[-_]([0-3]\d)[-_](20\d{2})", low)
    if m:
        return f"{m[3]}-{m[1]}-{m[2]}"
    m = re.search(r"(20\d{2})[-_ ]?q([1-4])", low)
    if m:
        return f"{m[1]}-{(int(m[2]) - 1) * 3 + 1:02d}-01"
    m = re.search(r"(20\d{2})-(0[1-9]|1[0-2])(?!\d)", low)
    if m:
        return f"{m[1]}-{m[2]}-01"
    for i, month in enumerate(_MONTHS):
        m = re.search(rf"{month[:3].lower()}[a-z]*[-_ ]?(20\d{{2}})", low)
        if m:
            return f"{m[1]}-{i + 1:02d}-01"
        m = re.search(rf"(20\d{{2}})[-_ ]?{month[:3].lower()}(?![a-z])", low)  # CMS: HCPC2024_JUL_ANWEB
        if m:
            return f"{m[1]}-{i + 1:02d}-01"
    # CMS's annual alpha-numeric HCPCS file (HCPC2020_ANWEB…): the January release of that year.
    m = re.search(r"hcpc(20\d{2})(?![-_ ]?(?:q|\d))", low)
    if m:
        return f"{m[1]}-01-01"
    return ""


def today() -> str:
    return date.today().isoformat()


class ImportResult:
    """What an import reports: rows kept, the release label and the output file."""

    def __init__(self, rows: int, release: str, path: Path, note: str = "") -> None:
        self.rows = rows
        self.release = release
        self.path = path
        self.note = note


def release_label(explicit: str | None, found: str, path: Path) -> str:
    """The release date or name to show: --release, else one found in the data or file name, else ""."""
    if explicit:
        return explicit
    return found or release_from_name(path.name)


def cite(what: str, release: str, source_file: str, *, effective: bool = True) -> str:
    """'NCCI PTP edits effective 2024-07-01, CMS'; the file name stands in for an unknown release."""
    if release:
        return f"{what} {'effective ' if effective else ''}{release}, CMS"
    return f"{what}, CMS file {source_file}" if source_file else f"{what}, CMS"
