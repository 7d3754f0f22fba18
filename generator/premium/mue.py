"""NCCI medically unlikely edits (MUEs): practitioner, outpatient hospital and DME supplier."""
from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from ..errors import BuildError
from ..model import Section
from .db import ImportResult, Output, cite, read_meta, release_label
from .sections import esc, source
from .tabular import CODE_RE, Column, Table

SETTINGS = {
    "mue-practitioner": "Practitioner",
    "mue-hospital": "Outpatient hospital",
    "mue-dme": "DME supplier",
}

COLUMNS = (
    Column("HCPCS/CPT code", ("hcpcscptcode", "hcpcscpt", "hcpcs", "cpt", "code", "hcpcscode")),
    Column("MUE value", ("muevalue", "muevalues", "value", "units"), contains=True),
    Column("MUE adjudication indicator", ("mueadjudicationindicator", "adjudicationindicator", "mai"),
           contains=True),
    Column("MUE rationale", ("muerationale", "rationale"), required=False, contains=True),
)

MAI = {
    1: "Line edit: the MUE applies to each claim line",
    2: "Date of service edit (policy): units of all lines on the date of service are added up; "
       "an absolute limit from policy or regulation",
    3: "Date of service edit (clinical): units of all lines on the date of service are added up; "
       "may be exceeded on appeal when medically necessary",
}

SCHEMA = "CREATE TABLE mue(code TEXT NOT NULL, value INTEGER NOT NULL, mai INTEGER NOT NULL, rationale TEXT);"
INDEXES = "CREATE INDEX mue_code ON mue(code);"


def import_mue(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    table = Table(
        path, COLUMNS, f"an MUE file ({SETTINGS[kind].lower()}: code / MUE value / adjudication indicator)"
    )
    o = Output(out, SCHEMA)
    rows = 0
    batch = []
    try:
        for line, cells in table.rows():
            code = table.get(cells, "HCPCS/CPT code").upper()
            if not CODE_RE.match(code):
                raise BuildError(f"{path}:{line}: '{code}' is not a 5-character HCPCS/CPT code")
            value = table.get(cells, "MUE value")
            if not value.isdigit():
                raise BuildError(f"{path}:{line}: MUE value '{value}' for {code} must be a whole number")
            # CMS writes the indicator as text ("3 Date of Service Edit: Clinical"); re-exports as the digit.
            m = re.match(r"\s*([123])\b", table.get(cells, "MUE adjudication indicator"))
            if not m:
                raise BuildError(
                    f"{path}:{line}: MUE adjudication indicator "
                    f"'{table.get(cells, 'MUE adjudication indicator')}' for {code} must start with 1, 2 or 3"
                )
            batch.append((code, int(value), int(m[1]), table.get(cells, "MUE rationale")))
            rows += 1
        if not rows:
            raise BuildError(f"{path}: no MUE rows found below the header")
        o.db.executemany("INSERT INTO mue VALUES (?,?,?,?)", batch)
        rel = release_label(release, "", path)
        o.commit({"kind": kind, "setting": SETTINGS[kind], "release": rel, "source_file": path.name,
                  "rows": str(rows)}, INDEXES)
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)


class MueSource:
    def __init__(self, kind: str, db: sqlite3.Connection) -> None:
        self.kind = kind
        self.db = db
        meta = read_meta(db)
        self.setting = meta.get("setting", SETTINGS[kind])
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")
        self._by_code: dict[str, list[tuple[int, int, str]]] | None = None

    def codes(self) -> set[str]:
        return {str(r[0]) for r in self.db.execute("SELECT DISTINCT code FROM mue")}

    def rows(self, code: str) -> list[tuple[int, int, str]]:
        return [(int(v), int(m), str(r or "")) for v, m, r in
                self.db.execute("SELECT value, mai, rationale FROM mue WHERE code=?", (code,))]

    def by_code(self) -> dict[str, list[tuple[int, int, str]]]:
        """Every code's `rows`, read in one pass the first time (a few thousand rows; a build asks for
        every CPT and HCPCS code)."""
        if self._by_code is None:
            out: dict[str, list[tuple[int, int, str]]] = {}
            q = "SELECT code, value, mai, rationale FROM mue ORDER BY code, rowid"
            for c, v, m, r in self.db.execute(q):
                out.setdefault(str(c), []).append((int(v), int(m), str(r or "")))
            self._by_code = out
        return self._by_code


def render(code: str, sources: list[MueSource]) -> Section | None:
    rows = []
    notes = []
    for src in sources:
        for value, mai, rationale in src.by_code().get(code, ()):
            rows.append(
                f"<tr><th scope=\"row\">{esc(src.setting)}</th><td>{value}</td>"
                f"<td>{mai} — {esc(MAI.get(mai, 'unknown'))}</td><td>{esc(rationale) or '—'}</td></tr>"
            )
            notes.append(cite(f"MUEs ({src.setting.lower()})", src.release, src.file))
    if not rows:
        return None
    html = (
        f"<p>The most units of service of {esc(code)} that a provider would report for one patient "
        "on one date of service in most cases.</p>"
        '<table class="mue"><thead><tr><th scope="col">Setting</th><th scope="col">MUE value (units)</th>'
        '<th scope="col">Adjudication indicator</th><th scope="col">Rationale</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        + "".join(source(n) for n in dict.fromkeys(notes))
    )
    return Section(id="mue", kind="mue", title="Medically unlikely edits", html=html)
