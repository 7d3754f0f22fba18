"""The job board stage of a build: its day, the listings' fingerprint, the listings read (problems
collected); `pages.py` renders them.

What the board shows depends on the listings and on the day (jobs open and close by date), so its
fingerprint covers both: the first build of a new day re-renders the board, and only the board.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os

from ..config import SiteConfig
from ..errors import BuildError, Problems
from . import reader
from .model import Job

TODAY_ENV = "CODEREF_TODAY"


def today() -> dt.date:
    """The build's day (UTC); CODEREF_TODAY=YYYY-MM-DD pins it (tests, reproducing a build)."""
    pinned = os.environ.get(TODAY_ENV, "").strip()
    if pinned:
        try:
            return dt.date.fromisoformat(pinned)
        except ValueError:
            raise BuildError(f"{TODAY_ENV}={pinned!r} is not a date written as YYYY-MM-DD") from None
    return dt.datetime.now(dt.UTC).date()


def fingerprint(cfg: SiteConfig, day: dt.date) -> str:
    """Changes when a listing file, the board's settings or the day change."""
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{day.isoformat()}|{cfg.jobs.enabled}|{cfg.jobs.samples}".encode())
    folder = cfg.content_dir / "jobs"
    if folder.is_dir():
        for path in sorted(folder.glob("*.md")):
            h.update(path.name.encode() + b"\0")
            h.update(path.read_bytes())
            h.update(b"\0")
    return h.hexdigest()


def read(cfg: SiteConfig, problems: Problems) -> list[Job]:
    """Every listing of `content/jobs/` (none when the board is off)."""
    if not cfg.jobs.enabled:
        return []
    return reader.read_jobs(cfg.content_dir, cfg.root, problems)

