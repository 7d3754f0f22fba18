"""The quarterly NCCI and MUE releases held side by side, and which one is current.

An import of an NCCI PTP or MUE file whose release (effective date) differs from those held keeps
them all: the newest imported release is `<data_dir>/premium/KIND.sqlite` (where it always was), the
older ones `<data_dir>/premium/held/KIND/<date>.sqlite`. The file shipped in `content/official/` is
one more release when its date is not imported. The current release, which the premium sections,
the fast path and CasePilot read, is the newest held, unless `sources:` in site.yml names a file
(that file is then the current and only release). Release history (`generator/history/ncci_mue.py`)
compares consecutive releases held.

`current_release: {KIND: DATE}` in site.yml makes another release held the current one.

An import whose release has no date (a file named without one, no `--release`) replaces the current
import as before and drops the held releases of its kind: an undated release cannot be ordered.
"""
from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from .. import official
from ..config import RELEASED_KINDS, SiteConfig

__all__ = ["RELEASED_KINDS", "check_release", "current_source", "held_dir", "held_sources", "release_of",
           "store_import"]
from ..errors import BuildError
from .db import SUBDIR, ImportResult, data_file, read_meta, release_from_name
from .ncci import version_date

_DATE = re.compile(r"^20\d\d-[01]\d-[0-3]\d$")
Importer = Callable[[str, Path, Path, "str | None"], ImportResult]


def held_dir(cfg: SiteConfig, kind: str) -> Path:
    return cfg.data_path / SUBDIR / "held" / kind


def dated(release: str) -> str:
    """The release as an ISO date ("2024-07-01"), or "" when it names none."""
    if _DATE.match(release):
        return release
    return release_from_name(release)


def meta_release(path: Path) -> str:
    """The release an imported file was given (its meta), as written."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return read_meta(db).get("release", "")
    finally:
        db.close()


def file_date(release: str, path: Path) -> str:
    """The release date of a file not imported: its release line, else what its name says (as the
    importers read it: NCCI's version 'v302r0' first)."""
    return dated(release) or version_date(path.name) or release_from_name(path.name)


def held_sources(cfg: SiteConfig, kind: str) -> list[official.Source]:
    """Every release of `kind` held, oldest first, each with its release date (undated last)."""
    if kind in cfg.sources:
        return [official.Source(kind, cfg.root / cfg.sources[kind], "site.yml")]
    found: dict[str, official.Source] = {}
    current = data_file(cfg, kind)
    if current.exists():
        rel = meta_release(current)
        when = dated(rel)
        if not when:  # an undated import: the only release held, as before
            return [official.Source(kind, current, "imported", rel or None)]
        found[when] = official.Source(kind, current, "imported", rel)
    folder = held_dir(cfg, kind)
    if folder.is_dir():
        for path in sorted(folder.glob("20*.sqlite")):  # not a conversion in progress (incoming.sqlite)
            found.setdefault(path.stem, official.Source(kind, path, "imported", meta_release(path)))
    shipped = official.shipped_file(cfg, kind)
    if shipped is not None:
        when = file_date(official.shipped_release(kind) or "", shipped)
        if when not in found:  # an imported file of the same release replaces the shipped one
            found[when] = official.Source(kind, shipped, "shipped", official.shipped_release(kind))
    return [found[k] for k in sorted(found, key=lambda k: (k == "", k))]


def release_of(src: official.Source) -> str:
    """The release date of a held source ("" when it has none)."""
    if src.origin == "imported":
        return dated(src.release or "")
    return file_date(src.release or "", src.path)


def current_source(cfg: SiteConfig, kind: str) -> official.Source | None:
    """The release the build reads: the newest held, or the one `current_release:` in site.yml names
    (`sources:` pins one file)."""
    held = held_sources(cfg, kind)
    if not held:
        return None
    wanted = cfg.current_release.get(kind)
    if wanted and kind not in cfg.sources:
        found = [s for s in held if release_of(s) == wanted]
        if not found:
            dates = ", ".join(release_of(s) or "undated" for s in held)
            raise BuildError(f"site.yml: current_release.{kind} is {wanted}, but the releases held are "
                             f"{dates}; import that release (coderef import {kind} FILE) or change the date")
        return found[0]
    dated_ones = [s for s in held if release_of(s)]
    return dated_ones[-1] if dated_ones else held[-1]


def store_import(cfg: SiteConfig, kind: str, path: Path, release: str | None, run: Importer) -> ImportResult:
    """Converts `path` and files it among the releases held of `kind` (see the module docstring)."""
    folder = held_dir(cfg, kind)
    folder.mkdir(parents=True, exist_ok=True)
    incoming = folder / "incoming.sqlite"
    result = run(kind, path, incoming, release)
    when = dated(result.release)
    current = data_file(cfg, kind)
    if not when:
        dropped = sorted(folder.glob("*.sqlite"))
        for old in dropped:
            if old != incoming:
                old.unlink()
        os.replace(incoming, current)
        gone = len(dropped) - 1
        note = f"; {gone} held release(s) dropped: this one has no date" if gone else ""
        return ImportResult(result.rows, result.release, current, result.note + note)
    was = dated(meta_release(current)) if current.exists() else ""
    if current.exists() and not was:
        current.unlink()  # an undated import is replaced by a dated one
        was = ""
    if was and when < was:
        dest = folder / f"{when}.sqlite"
        os.replace(incoming, dest)
    else:
        if was and was != when:
            os.replace(current, folder / f"{was}.sqlite")
        dest = current
        os.replace(incoming, dest)
        (folder / f"{when}.sqlite").unlink(missing_ok=True)  # the same release, imported before as older
    held = [release_of(s) for s in held_sources(cfg, kind)]
    now = release_of(current_source(cfg, kind) or official.Source(kind, dest, "imported"))
    note = f"releases held: {', '.join(held)}; current: {now}" if len(held) > 1 else ""
    return ImportResult(result.rows, result.release, dest, "; ".join(n for n in (result.note, note) if n))


def check_release(kind: str, release: str) -> None:
    """A release given with --release for a quarterly kind must be a date: it orders the releases."""
    if release and not dated(release):
        raise BuildError(
            f"--release {release!r}: the releases of {kind} are kept side by side in date order; give the "
            "release's effective date, e.g. --release 2024-10-01"
        )
