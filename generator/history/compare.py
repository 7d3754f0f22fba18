"""Comparing two releases of a code set: codes added, deleted, retitled, billable <-> header, and (HCPCS)
terminated."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from .held import Held
from .releases import Release, consecutive


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


@dataclass(frozen=True, slots=True)
class Termination:
    key: str
    ended: str  # the termination date CMS's newer file gives ("2021-12-31")


# The kinds of change each code set can have, in the order pages list them: ICD-10-CM codes are
# billable or headers; HCPCS codes are all reportable, but CMS terminates them (and keeps them listed).
KINDS = {"hcpcs": ("new", "revised", "terminated", "deleted")}
DEFAULT_KINDS = ("new", "revised", "deleted", "status")


@dataclass
class Changes:
    """What changed from `old` to `new`; lists in official order (deleted: the old release's order)."""

    old: Release
    new: Release
    added: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    revised: list[Revision] = field(default_factory=list)
    status: list[StatusChange] = field(default_factory=list)
    terminated: list[Termination] = field(default_factory=list)

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS.get(self.new.codeset, DEFAULT_KINDS)

    @property
    def spans(self) -> bool:
        """Whether the two releases are not consecutive: the changes are those of every release between."""
        return not consecutive(self.old, self.new)

    @property
    def when(self) -> str:
        """When the changes came: "in FY2026", or "since 2020-01" for a comparison that spans releases."""
        return f"since {self.old.name}" if self.spans else f"in {self.new.name}"

    def counts(self) -> dict[str, int]:
        sizes = {"new": len(self.added), "revised": len(self.revised), "deleted": len(self.deleted),
                 "status": len(self.status), "terminated": len(self.terminated)}
        return {k: sizes[k] for k in self.kinds}


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
        if now.ended and not was.ended:
            out.terminated.append(Termination(key, now.ended))
    out.deleted = [key for key in old_codes if key not in new_codes]
    return out
