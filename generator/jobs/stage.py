"""The job board's stage of a build: its listings read once per build (problems collected before
any output is written), its site files, and the fingerprint that tells whether they changed.

What the board shows depends on the listing files and on the day (jobs open and close by date), so
the fingerprint covers both: the first build of a new day re-renders the board, and only the board.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from ..config import SiteConfig
from ..errors import BuildError, ContentErrors, Problems
from ..link import CodeSetModel
from ..theme import SiteFile, Theme
from . import pages, reader
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


@dataclass(frozen=True)
class Listings:
    """The listings as a build reads them on `day` (none when the board is off)."""

    day: dt.date
    fingerprint: str
    jobs: list[Job]
    problems: Problems


# The listings last read, by (content folder, fingerprint): the build's validate, write and index
# stages each ask for them, and the files are read and checked once.
_LAST: dict[tuple[str, str], Listings] = {}


def listings(cfg: SiteConfig) -> Listings:
    day = today()
    fp = fingerprint(cfg, day)
    key = (str(cfg.content_dir), fp)
    hit = _LAST.get(key)
    if hit is None:
        problems = Problems()
        jobs = reader.read_jobs(cfg.content_dir, cfg.root, problems) if cfg.jobs.enabled else []
        _LAST.clear()
        hit = _LAST[key] = Listings(day, fp, jobs, problems)
    return hit


def check(cfg: SiteConfig, problems: Problems) -> None:
    """The listings' part of the validate stage: their problems join the build's."""
    problems.items.extend(listings(cfg).problems.items)


def site_files(theme: Theme, models: dict[str, CodeSetModel]) -> Iterator[SiteFile]:
    """The site stage of the job board: the job pages, `/jobs/`, the posting form, feed, sitemap."""
    board = listings(theme.cfg)
    if board.problems.errors:  # reported by the validate stage already; never render a broken board
        raise ContentErrors(board.problems)
    yield from pages.board_files(theme, board.jobs, board.day)
