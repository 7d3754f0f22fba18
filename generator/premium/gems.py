"""GEMs (ICD-10 <-> ICD-9 General Equivalence Mappings) and the CMS32 ICD-9-CM descriptions."""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Collection, Mapping
from pathlib import Path

from ..errors import BuildError
from ..model import ICD10CM, ICD10PCS, Section
from .db import ImportResult, Output, cite, read_meta, release_label
from .sections import esc, source
from .tabular import open_text

# kind -> (ICD-10 code set, direction: True when ICD-10 is the source column, label)
GEM_KINDS = {
    "gem-cm-to-icd9": (ICD10CM, True, "ICD-10-CM to ICD-9-CM"),
    "gem-icd9-to-cm": (ICD10CM, False, "ICD-9-CM to ICD-10-CM"),
    "gem-pcs-to-icd9": (ICD10PCS, True, "ICD-10-PCS to ICD-9-CM"),
    "gem-icd9-to-pcs": (ICD10PCS, False, "ICD-9-CM to ICD-10-PCS"),
}
DESC_KINDS = {"icd9-descriptions-dx": ICD10CM, "icd9-descriptions-sg": ICD10PCS}
NO_MAP = {"NODX", "NOPCS", "NOP", "NONE"}

GEM_SCHEMA = """
CREATE TABLE gem(icd10 TEXT NOT NULL, icd9 TEXT, approx INTEGER NOT NULL, nomap INTEGER NOT NULL,
  combo INTEGER NOT NULL, scenario INTEGER NOT NULL, choice INTEGER NOT NULL);
"""
DESC_SCHEMA = "CREATE TABLE icd9(code TEXT PRIMARY KEY, description TEXT NOT NULL) WITHOUT ROWID;"
_LINE = re.compile(r"^\s*([0-9A-Z]{3,7})\s+([0-9A-Za-z]{3,7})\s+([01][01][01]\d\d)\s*$")


def import_gem(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    _codeset, icd10_first, label = GEM_KINDS[kind]
    o = Output(out, GEM_SCHEMA)
    rows = 0
    batch = []
    flags: dict[str, tuple[int, ...]] = {}  # "10000" -> its five digits (a few dozen distinct)
    try:
        with open_text(path) as fh:
            for line, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                m = _LINE.match(raw)
                if not m:
                    raise BuildError(
                        f"{path}:{line}: not a GEM line (expected 'source target flags', flags being five "
                        f"digits such as 10000): {raw.strip()[:60]!r}"
                    )
                src, tgt = m[1].upper(), m[2].upper()
                f = flags.get(m[3])
                if f is None:
                    f = flags[m[3]] = tuple(int(c) for c in m[3])
                approx, nomap, combination, scenario, choice = f
                icd10, icd9 = (src, tgt) if icd10_first else (tgt, src)
                if nomap or (icd9 if icd10_first else icd10) in NO_MAP:
                    if icd10_first:
                        icd9 = None
                    else:
                        icd10 = ""  # an ICD-9 code with no ICD-10 target attaches to no page
                if icd10:
                    batch.append((icd10, icd9, approx, nomap, combination, scenario, choice))
                rows += 1
        if not rows:
            raise BuildError(f"{path}: the file has no GEM lines ({label})")
        o.db.executemany("INSERT INTO gem VALUES (?,?,?,?,?,?,?)", batch)
        year = re.search(r"(20\d\d)", path.name)
        rel = release_label(release, f"FY{year[1]}" if year else "", path)
        o.commit({"kind": kind, "release": rel, "source_file": path.name, "rows": str(rows), "label": label},
                 "CREATE INDEX gem_icd10 ON gem(icd10);")
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)


def import_descriptions(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    o = Output(out, DESC_SCHEMA)
    rows = 0
    batch = []
    try:
        with open_text(path) as fh:
            for line, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                parts = raw.strip().split(None, 1)
                if len(parts) != 2 or not re.fullmatch(r"[0-9EV]\d{1,4}", parts[0]):
                    raise BuildError(
                        f"{path}:{line}: expected an ICD-9-CM code then its description, "
                        f"found {raw.strip()[:60]!r}"
                    )
                batch.append((parts[0], parts[1].strip()))
                rows += 1
        if not rows:
            raise BuildError(f"{path}: the file has no ICD-9-CM descriptions")
        o.db.executemany("INSERT OR REPLACE INTO icd9 VALUES (?, ?)", batch)
        rel = release_label(release, "", path)
        o.commit({"kind": kind, "release": rel, "source_file": path.name, "rows": str(rows)})
    except BaseException:
        o.abort()
        raise
    return ImportResult(rows, rel, out)


def icd9_display(code: str, procedure: bool) -> str:
    """CMS writes ICD-9-CM codes without the dot: '25020' -> '250.20', 'E8800' -> 'E880.0',
    '4573' -> '45.73'."""
    if procedure:
        return code[:2] + "." + code[2:] if len(code) > 2 else code
    cut = 4 if code.startswith("E") else 3
    return code[:cut] + "." + code[cut:] if len(code) > cut else code


def page_key(codeset: str, gem_code: str) -> str:
    """GEM codes have no dots; ICD-10-CM pages are keyed with the dot after the category."""
    if codeset == ICD10CM and len(gem_code) > 3:
        return gem_code[:3] + "." + gem_code[3:]
    return gem_code


def gem_code(codeset: str, key: str) -> str:
    return key.replace(".", "") if codeset == ICD10CM else key


GemRow = tuple["str | None", int, int, int, int, int]  # icd9, approx, nomap, combo, scenario, choice


class GemSource:
    def __init__(self, kind: str, db: sqlite3.Connection) -> None:
        self.kind = kind
        self.db = db
        self.codeset, self.forward, self.label = GEM_KINDS[kind]
        meta = read_meta(db)
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")

    def codes(self) -> set[str]:
        return {str(r[0]) for r in self.db.execute("SELECT DISTINCT icd10 FROM gem")}

    def rows(self, code: str) -> list[GemRow]:
        """One code's mappings, in the order the section lists them."""
        return list(self.db.execute(
            "SELECT icd9, approx, nomap, combo, scenario, choice FROM gem WHERE icd10=? "
            "ORDER BY scenario, choice, icd9", (code,)))


def descriptions(db: sqlite3.Connection) -> dict[str, str]:
    """The ICD-9-CM descriptions of an imported CMS32 file, code -> description."""
    return {str(c): str(d) for c, d in db.execute("SELECT code, description FROM icd9")}


def _flags(approx: int, combo: int, scenario: int, choice: int) -> str:
    words = ["approximate" if approx else "exact"]
    if combo:
        words.append(f"combination: scenario {scenario}, choice list {choice}")
    return ", ".join(words)


def _list(rows: list[GemRow], descs: Mapping[str, str] | None, procedure: bool) -> str:
    """One line per mapping; 150,000 pages carry this section, so the markup stays small."""
    items = []
    for icd9, approx, nomap, combo, scenario, choice in rows:
        if nomap or not icd9:
            items.append("<li>No ICD-9-CM equivalent (no map)</li>")
            continue
        hit = descs.get(icd9) if descs is not None else None
        desc = f" {esc(hit)}" if hit else ""
        items.append(f"<li><b>{esc(icd9_display(icd9, procedure))}</b>{desc} "
                     f"<i>({esc(_flags(approx, combo, scenario, choice))})</i></li>")
    return "<ul>" + "".join(items) + "</ul>"


def render(codeset: str, key: str, sources: list[GemSource],
           descs: Mapping[str, str] | sqlite3.Connection | None,
           pages: Mapping[str, Collection[str]]) -> Section | None:
    """The crosswalk section of one page; `descs`: the ICD-9-CM descriptions (`descriptions`, read
    once per process, or their file). The mappings are read code by code: held in memory, the 280,000
    rows cost each render worker 50 MB for about 3 s of CPU saved over a full build."""
    del pages  # ICD-9-CM codes have no pages on this site
    if isinstance(descs, sqlite3.Connection):
        descs = descriptions(descs)
    code = gem_code(codeset, key)
    procedure = codeset == ICD10PCS
    parts = []
    combo_seen = False
    for src in sources:
        if src.codeset != codeset:
            continue
        rows = src.rows(code)
        if not rows:
            continue
        combo_seen = combo_seen or any(r[3] for r in rows)
        title = (f"{esc(key)} maps to" if src.forward else f"ICD-9-CM codes that map to {esc(key)}")
        parts.append(f"<h3>{title}</h3>{_list(rows, descs, procedure)}")
        parts.append(source(cite(f"{src.label} GEMs", src.release, src.file, effective=False)))
    if not parts:
        return None
    note = (
        " Combination: every code of one choice list in a scenario is needed together." if combo_seen else ""
    )
    intro = f"<p>Approximate: the codes do not mean exactly the same.{note}</p>"
    return Section(id="gems-crosswalk", kind="crosswalk", title="ICD-9-CM crosswalk (GEMs)",
                   html="".join(parts) + intro)
