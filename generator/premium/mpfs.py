"""Medicare Physician Fee Schedule: PPRRVU (RVUs, indicators, conversion factor) and GPCI imports."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import BuildError
from .db import ImportResult, Output, release_label
from .tabular import CODE_RE, Column, Table

RVU_COLUMNS = (
    Column("HCPCS", ("hcpcs", "hcpcscode", "code", "cpthcpcs")),
    Column("MOD", ("mod", "modifier")),
    Column("status code", ("statuscode", "status")),
    Column("work RVU", ("workrvu", "work")),
    Column("non-facility PE RVU", ("nonfacpervu", "nonfacilitypervu", "fullynonfacpervu")),
    Column("facility PE RVU", ("facilitypervu", "facpervu", "fullyfacilitypervu")),
    Column("MP RVU", ("mprvu", "malpracticervu")),
    Column("non-facility total", ("nonfacilitytotal", "nonfactotal")),
    Column("facility total", ("facilitytotal", "factotal")),
    Column("PC/TC indicator", ("pctcind", "pctc", "pctcindicator")),
    Column("global days", ("globdays", "global", "globaldays")),
    Column("multiple procedure", ("multproc", "multipleprocedure")),
    Column("bilateral surgery", ("bilatsurg", "bilateral")),
    Column("assistant surgery", ("asstsurg", "assistant")),
    Column("co-surgeons", ("cosurg", "cosurgeons")),
    Column("team surgery", ("teamsurg", "team")),
    Column("conversion factor", ("convfactor", "conversionfactor", "cf")),
    Column("non-facility NA indicator", ("nonfacindicator", "nonfacilityindicator"), required=False),
    Column("facility NA indicator", ("facilityindicator", "facindicator"), required=False),
    Column("endoscopic base", ("endobase",), required=False),
    Column("release", ("release",), required=False),
)

GPCI_COLUMNS = (
    Column("locality number", ("localitynumber", "locality", "localitynum", "locno")),
    Column("locality name", ("localityname", "feeschedulearea", "name")),
    Column("work GPCI", ("gpciwork", "pwgpci", "workgpci"), contains=True),
    Column("PE GPCI", ("gpcipe", "pegpci"), contains=True),
    Column("MP GPCI", ("gpcimp", "mpgpci"), contains=True),
    Column("state", ("state", "st"), required=False),
    Column("MAC", ("mac", "medicareadministrativecontractor", "contractor", "carrier"), required=False),
    Column("release", ("release",), required=False),
)

RVU_SCHEMA = """
CREATE TABLE rvu(code TEXT NOT NULL, mod TEXT NOT NULL, status TEXT NOT NULL, work REAL, nf_pe REAL, \
f_pe REAL,
  mp REAL, nf_total REAL, f_total REAL, pctc TEXT, glob TEXT, mult TEXT, bilat TEXT, asst TEXT, co TEXT,
  team TEXT, cf REAL, nf_na TEXT, f_na TEXT, endo TEXT, release TEXT NOT NULL);
"""
GPCI_SCHEMA = """
CREATE TABLE gpci(mac TEXT, state TEXT, locality TEXT NOT NULL, name TEXT NOT NULL, work REAL NOT NULL,
  pe REAL NOT NULL, mp REAL NOT NULL, release TEXT NOT NULL);
"""
_MONTH = {"jan": "January", "apr": "April", "jul": "July", "oct": "October"}


def release_name(tag: str, path: Path) -> str:
    """'rvu24c_jul' -> 'RVU24C (July 2024)'; official names like PPRRVU24_JUL.csv work too."""
    m = re.fullmatch(r"rvu(\d\d)([a-d])(r?)(?:_([a-z]{3}))?", tag.lower())
    if m:
        name = f"RVU{m[1]}{m[2].upper()}{m[3].upper()}"
        month = _MONTH.get(m[4] or {"a": "jan", "b": "apr", "c": "jul", "d": "oct"}[m[2]], "")
        return f"{name} ({month} 20{m[1]})"
    m = re.search(r"gpci(20\d\d)", path.name.lower())
    if m and not tag:
        return f"GPCI{m[1]} ({m[1]})"
    m = re.search(r"pprrvu(\d\d)(?:_([a-z]{3}))?", path.name.lower())
    if m and not tag:
        month = _MONTH.get(m[2] or "", "")
        return f"RVU{m[1]} ({month + ' ' if month else ''}20{m[1]})"
    return tag


def _float(table: Table, cells: list[str], name: str, path: Path, line: int) -> float | None:
    return _number(table.get(cells, name), name, path, line)


def _number(v: str, name: str, path: Path, line: int) -> float | None:
    if not v:
        return None
    try:
        return float(v)
    except ValueError:
        raise BuildError(f"{path}:{line}: {name} '{v}' is not a number") from None


# The numbers of a PPRRVU row, in the order of the `rvu` table (the conversion factor comes later).
_NUMBERS = ("work RVU", "non-facility PE RVU", "facility PE RVU", "MP RVU", "non-facility total",
            "facility total", "conversion factor")


def _keep_latest(o: Output, table: str, releases: set[str]) -> str:
    latest = max(releases) if releases else ""
    # Re-exports stack several quarterly releases; the site shows the newest one only.
    if len(releases) > 1:
        o.db.execute(f"DELETE FROM {table} WHERE release != ?", (latest,))
    return latest


def import_pprrvu(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    table = Table(path, RVU_COLUMNS, "a PPRRVU file (HCPCS / MOD / status code / RVUs / conversion factor)")
    o = Output(out, RVU_SCHEMA)
    rows = 0
    # Re-exports stack several quarterly releases; the site shows the newest one only: every row is
    # checked, the rows of each release kept apart, and only the newest release's written.
    by_release: dict[str, list[tuple[object, ...]]] = {}
    texts = table.getter(("HCPCS", "MOD", "status code", "PC/TC indicator", "global days",
                          "multiple procedure", "bilateral surgery", "assistant surgery", "co-surgeons",
                          "team surgery", "non-facility NA indicator", "facility NA indicator",
                          "endoscopic base", "release"))
    numbers = table.getter(_NUMBERS)
    try:
        for line, cells in table.rows():
            (code, mod, status, pctc, days, mult, bilat, asst, cosurg, team, nf_na, f_na, endo,
             rel) = texts(cells)
            code = code.upper()
            if not CODE_RE.match(code):
                raise BuildError(f"{path}:{line}: '{code}' is not a 5-character HCPCS/CPT code")
            raw = numbers(cells)
            try:
                w, nf_pe, f_pe, mp, nf_tot, f_tot, cf = [float(v) if v else None for v in raw]
            except ValueError:  # which one, said by _number
                for v, n in zip(raw, _NUMBERS, strict=True):
                    _number(v, n, path, line)
                raise
            rows_of = by_release.get(rel)
            if rows_of is None:
                rows_of = by_release[rel] = []
            rows_of.append((code, mod.upper(), status.upper(), w, nf_pe, f_pe, mp, nf_tot, f_tot, pctc,
                            days.upper(), mult, bilat, asst, cosurg, team, cf, nf_na, f_na, endo, rel))
            rows += 1
        if not rows:
            raise BuildError(f"{path}: no RVU rows found below the header")
        releases = set(by_release)
        latest = max(releases)
        o.db.executemany(f"INSERT INTO rvu VALUES ({','.join('?' * 21)})", by_release[latest])
        kept = o.db.execute("SELECT count(*) FROM rvu").fetchone()[0]
        label = release_label(release, release_name(latest, path), path)
        o.commit({"kind": kind, "release": label, "source_file": path.name, "rows": str(kept)},
                 "CREATE INDEX rvu_code ON rvu(code);")
    except BaseException:
        o.abort()
        raise
    note = f"latest of {len(releases)} releases kept" if len(releases) > 1 else ""
    return ImportResult(int(kept), label, out, note)


def import_gpci(kind: str, path: Path, out: Path, release: str | None = None) -> ImportResult:
    table = Table(path, GPCI_COLUMNS, "a GPCI file (locality number / locality name / work, PE and MP GPCI)")
    o = Output(out, GPCI_SCHEMA)
    rows = 0
    releases: set[str] = set()
    batch: list[tuple[str, str, str, str, float, float, float, str]] = []
    try:
        for line, cells in table.rows():
            loc = table.get(cells, "locality number")
            name = table.get(cells, "locality name")
            if not loc or not name:
                # CMS ends the GPCI table with footnote lines; they have no locality.
                if batch and not any(re.fullmatch(r"[\d.]+", c.strip()) for c in cells if c.strip()):
                    continue
                raise BuildError(f"{path}:{line}: a locality row needs a locality number and name")
            w, pe, mp = (_float(table, cells, n, path, line) for n in ("work GPCI", "PE GPCI", "MP GPCI"))
            if w is None or pe is None or mp is None:
                raise BuildError(f"{path}:{line}: locality {loc} lacks one of its work, PE or MP GPCI")
            rel = table.get(cells, "release")
            releases.add(rel)
            batch.append((table.get(cells, "MAC"), table.get(cells, "state").upper(), loc, name.strip(' "*'),
                          w, pe, mp, rel))
            rows += 1
        if not rows:
            raise BuildError(f"{path}: no locality rows found below the header")
        o.db.executemany("INSERT INTO gpci VALUES (?,?,?,?,?,?,?,?)", batch)
        latest = _keep_latest(o, "gpci", releases)
        kept = o.db.execute("SELECT count(*) FROM gpci").fetchone()[0]
        label = release_label(release, release_name(latest, path), path)
        o.commit({"kind": kind, "release": label, "source_file": path.name, "rows": str(kept)})
    except BaseException:
        o.abort()
        raise
    return ImportResult(int(kept), label, out)
