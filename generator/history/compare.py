"""Comparing two releases of a code set: codes added, deleted, retitled, and billable <-> header."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from .previous import Held
from .releases import Release


def title_key(title: str) -> str:
    """A title as compared across releases: diacritics removed and white space collapsed.

    CMS's order file is ASCII ("Sezary disease") where the tabular XML has "Sézary disease", and
    one FY2025 title has a doubled space; neither is a revision a coder would want flagged.
    """
    if title.isascii():
        return " ".join(title.split())
    decomposed = unicodedata.normalize("NFKD", title)
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True, slots=True)
class Revision:
    key: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    key: str
    was_billable: bool
    billable: bool


@dataclass
class Changes:
    """What changed from `old` to `new`; lists in official order (deleted: the old release's order)."""

    old: Release
    new: Release
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    revised: list[Revision] = field(default_factory=list)
    status: list[StatusChange] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"new": len(self.added), "revised": len(self.revised), "deleted": len(self.deleted),
                "status": len(self.status)}


def compare(old: Release, old_codes: dict[str, Held], new: Release, new_codes: dict[str, Held]) -> Changes:
    """The changes between two releases, each given as its codes (in official order)."""
    out = Changes(old, new)
    for key, now in new_codes.items():
        was = old_codes.get(key)
        if was is None:
            out.added.append(key)
            continue
        if was.title != now.title and title_key(was.title) != title_key(now.title):
            out.revised.append(Revision(key, was.title, now.title))
        if was.billable != now.billable:
            out.status.append(StatusChange(key, was.billable, now.billable))
    out.deleted = [key for key in old_codes if key not in new_codes]
    return out
