"""Releases of each code set and their effective dates; which release applies to a date of service."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_FY = re.compile(r"\bFY(\d{4})\b")
_UPDATE = re.compile(rf"\(({'|'.join(_MONTHS)}) (\d{{1,2}}), (\d{{4}}) update\)")


@dataclass(frozen=True, slots=True)
class Release:
    """One release of a code set: its name ("FY2026"), the dates it is in force, and the update held.

    `start`-`end` is when the release is in force (both inclusive; `end` None: until replaced).
    `held_from` is the first day of the update of it that the site holds, when that is later than
    `start` (ICD-10-CM FY2026 as of its April 1, 2026 update): codes that update added apply only
    from that day.
    """

    codeset: str
    name: str
    label: str  # "ICD-10-CM FY2026 (April 1, 2026 update)"
    start: date
    end: date | None
    held_from: date | None = None

    @property
    def slug(self) -> str:
        """The release in URLs ("fy2026")."""
        return self.name.lower()

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)

    def dates(self) -> str:
        """ "2025-10-01 to 2026-09-30" (or "from 2025-10-01")."""
        if self.end is None:
            return f"from {self.start.isoformat()}"
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def fiscal_year(codeset: str, name: str, fy: int, label: str, held_from: date | None = None) -> Release:
    """An ICD-10 fiscal year: October 1 of the year before to September 30."""
    start = date(fy - 1, 10, 1)
    return Release(codeset, name, label, start, date(fy, 9, 30), held_from if held_from != start else None)


def from_source_line(codeset: str, line: str) -> Release | None:
    """The fiscal-year release named by an importer's release line ("ICD-10-CM FY2026 (April 1, 2026
    update), CDC"), or None when the line names no fiscal year."""
    m = _FY.search(line)
    if m is None:
        return None
    fy = int(m.group(1))
    label = line.rsplit(",", 1)[0] if line.endswith((", CDC", ", CMS")) else line
    held_from = None
    u = _UPDATE.search(line)
    if u is not None:
        held_from = date(int(u.group(3)), _MONTHS.index(u.group(1)) + 1, int(u.group(2)))
    return fiscal_year(codeset, f"FY{fy}", fy, label, held_from)


def applies(releases: list[Release], day: date) -> Release | None:
    """The release in force on `day` (the newest that covers it), or None."""
    found = [r for r in releases if r.covers(day)]
    return max(found, key=lambda r: r.start) if found else None
