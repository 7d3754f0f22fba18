"""Every release the project holds, per code set and CMS data set, read from the files themselves;
and the answer to "which release applies to a date of service" (`coderef releases --date`).

Cheap on purpose: the ICD-10-CM tabular is read only up to its `<version>`, the other files only
for their names (and the PFS file for its release column), so the command answers in a second.
"""
from __future__ import annotations

import gzip
import re
from datetime import date, timedelta
from pathlib import Path

from ..config import SiteConfig
from ..errors import BuildError
from ..importers import codeset_importers
from ..importers.icd10cm import release_line as cm_release_line
from ..importers.icd10pcs import release_line as pcs_release_line
from ..importers.xmlpos import open_maybe_gzip
from ..load import source_for
from ..model import ICD10CM, ICD10PCS
from ..official import source
from ..premium.db import release_from_name
from .previous import previous_releases
from .releases import Release, applies, from_source_line

# What `coderef releases` lists: name -> (title, import kinds whose files carry the release).
QUARTERLY: dict[str, tuple[str, tuple[str, ...]]] = {
    "hcpcs": ("HCPCS Level II", ("hcpcs",)),
    "ncci": ("NCCI procedure-to-procedure edits", ("ncci-ptp-practitioner", "ncci-ptp-hospital")),
    "mue": ("Medically unlikely edits", ("mue-practitioner", "mue-hospital", "mue-dme")),
}
PFS = "pfs"
TITLES = {ICD10CM: "ICD-10-CM", ICD10PCS: "ICD-10-PCS", **{k: t for k, (t, _) in QUARTERLY.items()},
          PFS: "Physician Fee Schedule RVUs"}
# A revised PFS release ("R") replaces its quarter's file from a day CMS names in the release's notes:
# RVU24AR carries the conversion factor the Consolidated Appropriations Act, 2024 set from March 9, 2024.
REVISION_START: dict[str, date] = {"RVU24AR": date(2024, 3, 9)}
_VERSION = re.compile(rb"<version>\s*(\d{4})\s*</version>")
_RVU = re.compile(r"rvu(\d\d)([a-d])(r?)", re.IGNORECASE)


def quarter_end(start: date) -> date:
    """The last day of the calendar quarter `start` falls in."""
    after = (start.month - 1) // 3 * 3 + 4  # the first month of the next quarter, 13 for January
    return date(start.year + (after > 12), (after - 1) % 12 + 1, 1) - timedelta(days=1)


def icd10cm_releases(cfg: SiteConfig) -> list[Release]:
    imp = codeset_importers()["icd10cm"]
    path = source_for(cfg, imp)
    if path is None:
        return []
    with open_maybe_gzip(path) as f:
        head = f.read(8192)
    m = _VERSION.search(head if isinstance(head, bytes) else head.encode())
    current = from_source_line(ICD10CM, cm_release_line(m.group(1).decode() if m else "", path))
    earlier = [p.release for p in previous_releases(cfg, ICD10CM)]
    return earlier + ([current] if current is not None else [])


def icd10pcs_releases(cfg: SiteConfig) -> list[Release]:
    path = source_for(cfg, codeset_importers()["icd10pcs"])
    if path is None:
        return []
    found = from_source_line(ICD10PCS, pcs_release_line(path))
    return [found] if found is not None else []


def quarterly_releases(cfg: SiteConfig, name: str) -> list[Release]:
    """One release per distinct quarter named by the files of `name`'s kinds."""
    title, kinds = QUARTERLY[name]
    out: dict[date, Release] = {}
    for kind in kinds:
        src = source(cfg, kind)
        if src is None:
            continue
        found = release_from_name(src.release or src.path.name)
        if not found:
            raise BuildError(f"{src.path}: the file name names no release date; import it with --release")
        start = date.fromisoformat(found)
        label = f"{title} {start:%B %Y}"
        out.setdefault(start, Release(name, start.isoformat()[:7], label, start, quarter_end(start)))
    return [out[k] for k in sorted(out)]


def pfs_releases(cfg: SiteConfig) -> list[Release]:
    """The PFS releases stacked in the PPRRVU file (its `release` column), each until the next."""
    src = source(cfg, "pprrvu")
    if src is None:
        return []
    names = _release_column(src.path)
    starts: list[tuple[date, str]] = []
    for tag in names:
        m = _RVU.fullmatch(tag.split("_")[0])
        if m is None:
            raise BuildError(f"{src.path}: release '{tag}' is not a PFS release name such as rvu24c_jul")
        name = f"RVU{m[1]}{m[2].upper()}{m[3].upper()}"
        start = date(2000 + int(m[1]), "abcd".index(m[2].lower()) * 3 + 1, 1)
        if m[3]:
            if name not in REVISION_START:
                raise BuildError(f"{src.path}: the revised release {name} has no known start date")
            start = REVISION_START[name]
        starts.append((start, name))
    starts.sort()
    out = []
    for n, (start, name) in enumerate(starts):
        end = starts[n + 1][0] - timedelta(days=1) if n + 1 < len(starts) else quarter_end(start)
        out.append(Release(PFS, name, f"PFS {name}", start, end))
    return out


def _release_column(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        head = f.readline().rstrip("\r\n").split("\t")
        if "release" not in head:
            return [path.stem]
        col = head.index("release")
        seen: dict[str, None] = {}
        for line in f:
            seen.setdefault(line.split("\t", col + 1)[col], None)
    return list(seen)


def catalog(cfg: SiteConfig) -> dict[str, list[Release]]:
    """Every release held, oldest first, per code set or data set (those with none are left out)."""
    out = {ICD10CM: icd10cm_releases(cfg), ICD10PCS: icd10pcs_releases(cfg)}
    for name in QUARTERLY:
        out[name] = quarterly_releases(cfg, name)
    out[PFS] = pfs_releases(cfg)
    return {k: v for k, v in out.items() if v}


def answer(releases: list[Release], day: date) -> str:
    """One line: the release in force on `day`, or why none of those held is."""
    found = applies(releases, day)
    if found is None:
        held = ", ".join(f"{r.name} ({r.dates()})" for r in releases)
        return f"no release held covers {day.isoformat()} (held: {held})"
    line = f"{found.label}, in force {found.dates()}"
    if found.held_from is not None and day < found.held_from:
        line += (
            f"; the site holds its update of {found.held_from.isoformat()}: codes that update added do not "
            f"apply on {day.isoformat()}"
        )
    return line
