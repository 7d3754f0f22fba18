"""HCPCS Level II modifiers, read by the HCPCS importer's own parser (one parser for the layout)."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import BuildError
from ..importers.hcpcs import HcpcsImporter
from .db import ImportResult, Output, release_label

SCHEMA = (
    "CREATE TABLE modifier(code TEXT PRIMARY KEY, description TEXT NOT NULL, short TEXT NOT NULL,"
    " facts TEXT NOT NULL) WITHOUT ROWID;"
)


def import_modifiers(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    """Keeps the modifiers (two-character entries) of a CMS HCPCS alpha-numeric file."""
    o = Output(out, SCHEMA)
    rows = 0
    source = ""
    try:
        for rec in HcpcsImporter().read(path, modifiers_only=True):
            if not rec.is_code or rec.parent != "modifiers":
                continue
            source = rec.source
            o.db.execute(
                "INSERT OR REPLACE INTO modifier VALUES (?, ?, ?, ?)",
                (rec.key, rec.title, rec.short_title, json.dumps(rec.facts)),
            )
            rows += 1
        if not rows:
            raise BuildError(f"{path}: the HCPCS file has no modifiers (two-character entries)")
        rel = release_label(release, source, path)
        o.commit({"kind": kind, "release": rel, "source_file": path.name, "rows": str(rows)})
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)
