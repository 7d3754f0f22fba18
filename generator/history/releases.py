"""Releases of each code set and their effective dates; which release applies to a date of service."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")
_FY = re.compile(r"\bFY(\d{4})\b")
_QUARTER_LINE = re.compile(r"\b(20\d\d)-(0[1-9]|1[0-2]) release\b")  # "HCPCS Level II 2024-07 release, CMS"
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


def quarter_end(start: date) -> date:
    """The last day of the calendar quarter `start` falls in."""
    after = (start.month - 1) // 3 * 3 + 4  # the first month of the next quarter, 13 for January
    return date(start.year + (after > 12), (after - 1) % 12 + 1, 1) - timedelta(days=1)


def quarterly(codeset: str, title: str, start: date) -> Release:
    """A quarterly release (HCPCS, NCCI, MUE): named "2024-07", in force to the end of its quarter."""
    return Release(codeset, start.isoformat()[:7], f"{title} {start:%B %Y}", start, quarter_end(start))


def from_quarter_line(codeset: str, title: str, line: str) -> Release | None:
    """The quarterly release named by an importer's release line ("HCPCS Level II 2024-07 release,
    CMS"), or None when the line names no month."""
    m = _QUARTER_LINE.search(line)
    return None if m is None else quarterly(codeset, title, date(int(m[1]), int(m[2]), 1))


def consecutive(old: Release, new: Release) -> bool:
    """Whether `new` follows `old` directly; when not, a comparison of the two spans the releases in
    between (HCPCS 2020-01 -> 2024-07: eighteen quarterly updates the site does not hold)."""
    return old.end is not None and old.end + timedelta(days=1) >= new.start


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
