"""The Physician Fee Schedule releases stacked in one PPRRVU file, each in force until the next."""
from __future__ import annotations

import gzip
import re
from datetime import date, timedelta
from pathlib import Path

from ..config import SiteConfig
from ..errors import BuildError
from ..official import source
from .releases import Release, quarter_end

__all__ = ["PFS", "pfs_order", "pfs_releases", "quarter_end", "release_of"]

PFS = "pfs"
# A revised PFS release ("R") replaces its quarter's file from a day CMS names in the release's notes:
# RVU24AR carries the conversion factor the Consolidated Appropriations Act, 2024 set from March 9, 2024.
REVISION_START: dict[str, date] = {"RVU24AR": date(2024, 3, 9)}
_RVU = re.compile(r"rvu(\d\d)([a-d])(r?)", re.IGNORECASE)


def pfs_releases(cfg: SiteConfig) -> list[Release]:
    """The PFS releases stacked in the PPRRVU file (its `release` column), each until the next."""
    src = source(cfg, "pprrvu")
    if src is None:
        return []
    tags = _release_column(src.path)
    if tags == [""] and _named_release(src.path) is None:
        # One release that neither a release column nor the file name names (a CMS file copied under
        # another name): there are no dates to give, so the catalog lists no PFS release rather than
        # failing the build or guessing one. Its pages still show the RVUs.
        return []
    return pfs_order(tags, src.path)


_MONTH_LETTER = {"jan": "a", "apr": "b", "jul": "c", "oct": "d"}
_OFFICIAL_NAME = re.compile(r"pprrvu(\d\d)_?(jan|apr|jul|oct)", re.IGNORECASE)


def _named_release(path: Path) -> re.Match[str] | None:
    """The release a file name names: "RVU24C…", or CMS's "PPRRVU24_JUL…" read as RVU24C."""
    m = _RVU.search(path.name)
    o = _OFFICIAL_NAME.search(path.name) if m is None else None
    return _RVU.fullmatch(f"rvu{o[1]}{_MONTH_LETTER[o[2].lower()]}") if o is not None else m


def release_of(tag: str, path: Path) -> tuple[str, date]:
    """("RVU24AR", 2024-03-09) from a release tag ("rvu24ar_jan") or, without one, the file name."""
    m = _RVU.fullmatch(tag.split("_")[0]) if tag else _named_release(path)
    if m is None:
        what = f"release '{tag}'" if tag else "the file name"
        raise BuildError(
            f"{path}: {what} names no PFS release such as rvu24c_jul (RVU24C); import it with --release"
        )
    name = f"RVU{m[1]}{m[2].upper()}{m[3].upper()}"
    start = date(2000 + int(m[1]), "abcd".index(m[2].lower()) * 3 + 1, 1)
    if m[3]:
        if name not in REVISION_START:
            raise BuildError(f"{path}: the revised release {name} has no known start date")
        start = REVISION_START[name]
    return name, start


def pfs_order(tags: list[str], path: Path) -> list[Release]:
    """The releases named by `tags` (the values of a PPRRVU file's release column), oldest first."""
    starts = sorted(release_of(tag, path)[::-1] for tag in tags)
    out = []
    for n, (start, name) in enumerate(starts):
        end = starts[n + 1][0] - timedelta(days=1) if n + 1 < len(starts) else quarter_end(start)
        out.append(Release(PFS, name, f"PFS {name}", start, end))
    return out


def _release_column(path: Path) -> list[str]:
    """The distinct values of the release column ([""] when the file has none: one release)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        head = f.readline().rstrip("\r\n").lower().split("\t")
        if "release" not in head:
            return [""]
        col = head.index("release")
        seen: dict[str, None] = {}
        for line in f:
            seen.setdefault(line.split("\t", col + 1)[col], None)
    return list(seen)
