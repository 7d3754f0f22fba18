"""Every release the project holds, per code set and CMS data set, read from the files themselves;
and the answer to "which release applies to a date of service" (`coderef releases --date`).

Cheap on purpose: the ICD-10-CM tabular is read only up to its `<version>`, the other files only
for their names (and the PFS file for its release column), so the command answers in a second.
"""
from __future__ import annotations

import re
from datetime import date

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
from ..premium.releases import RELEASED_KINDS, held_sources, release_of
from .pfs import PFS, pfs_releases
from .previous import previous_releases
from .releases import Release, applies, from_source_line, quarterly

# What `coderef releases` lists: name -> (title, import kinds whose files carry the release).
QUARTERLY: dict[str, tuple[str, tuple[str, ...]]] = {
    "hcpcs": ("HCPCS Level II", ("hcpcs", "hcpcs-earlier")),
    "ncci": ("NCCI procedure-to-procedure edits", ("ncci-ptp-practitioner", "ncci-ptp-hospital")),
    "mue": ("Medically unlikely edits", ("mue-practitioner", "mue-hospital", "mue-dme")),
}
TITLES = {ICD10CM: "ICD-10-CM", ICD10PCS: "ICD-10-PCS", **{k: t for k, (t, _) in QUARTERLY.items()},
          PFS: "Physician Fee Schedule RVUs"}
_VERSION = re.compile(rb"<version>\s*(\d{4})\s*</version>")


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
        if kind in RELEASED_KINDS:  # NCCI and MUE: every release held side by side
            for held in held_sources(cfg, kind):
                found = release_of(held)
                if not found:
                    continue  # an undated import (as for PFS): no dates to give, its sections still show
                start = date.fromisoformat(found)
                out.setdefault(start, quarterly(name, title, start))
            continue
        src = source(cfg, kind)
        if src is None:
            continue
        found = release_from_name(src.release or src.path.name)
        if not found:
            raise BuildError(f"{src.path}: the file name names no release date; import it with --release")
        start = date.fromisoformat(found)
        out.setdefault(start, quarterly(name, title, start))
    return [out[k] for k in sorted(out)]


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
