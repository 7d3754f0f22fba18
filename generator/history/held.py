"""The codes of one release held, as compared across releases (one record type for every code set)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from .releases import Release


class Held(NamedTuple):
    """One code of a release: billable or header, and its (long) title. A tuple: 100k are made.

    HCPCS codes also carry the dates CMS's file gives them: `ended` its termination date when that
    lies before the file's release (the code is terminated in it), `added` the date it was added."""

    billable: bool
    title: str
    ended: str = ""
    added: str = ""


@dataclass(frozen=True, slots=True)
class PreviousRelease:
    release: Release
    codes: dict[str, Held]  # by the code as printed ("E11.9"), in the file's order
    path: Path
