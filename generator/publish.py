"""Publishing: two slot directories and an atomic symlink swap.

`site` is a symlink to `.coderef/slots/a` or `.coderef/slots/b`. A build writes the *inactive* slot
(only the files whose bytes differ from what that slot already holds, per its manifest), then
renames a new symlink over `site`. Readers see either the old tree or the new one, never a mix,
and a failed or killed build leaves the live slot untouched. No build deletes and recreates the
whole tree: unchanged files are kept (or hard-linked from the live slot).
"""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from .errors import BuildError


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class SlotWriter:
    """Writes files into one slot directory, skipping those whose hash the slot already has.

    Refuses to write one path twice in a build: two pages mapping to one URL is a bug upstream.
    Existing files are replaced by unlink + create, never rewritten in place, because the same
    inode may be hard-linked into the live slot.
    """

    def __init__(self, root: Path, old: dict[str, str]) -> None:
        self.root = root
        self.old = old
        self.new: dict[str, str] = {}
        self.written = 0
        self._dirs: set[str] = set()

    def _prepare(self, rel: str) -> str:
        if rel in self.new:
            raise BuildError(f"two outputs want the same path '{rel}'; each URL must come from exactly one page")
        full = os.path.join(self.root, rel)
        parent = os.path.dirname(full)
        if parent not in self._dirs:
            os.makedirs(parent, exist_ok=True)
            self._dirs.add(parent)
        return full

    def write(self, rel: str, data: bytes) -> str:
        full = self._prepare(rel)
        h = digest(data)
        self.new[rel] = h
        if self.old.get(rel) == h:
            return h
        try:
            os.unlink(full)
        except FileNotFoundError:
            pass
        with open(full, "wb") as f:
            f.write(data)
        self.written += 1
        return h

    def link(self, rel: str, src: Path, h: str) -> None:
        """Publishes an existing file (e.g. a search index file) by hard link, copying across devices."""
        full = self._prepare(rel)
        self.new[rel] = h
        if self.old.get(rel) == h:
            return
        try:
            os.unlink(full)
        except FileNotFoundError:
            pass
        try:
            os.link(src, full)
        except OSError:
            shutil.copyfile(src, full)
        self.written += 1


class Slots:
    """The two slot directories, the `site` symlink and what they hold.

    The state database keeps one manifest (`files`: path -> hash of the live slot) and, for the
    inactive slot, the paths where it differs from the manifest (`pending`). After a build swaps,
    the slot it left is brought level by hard links (`mirror`), so the next build starts from two
    identical trees and writes only what changes.
    """

    def __init__(self, state_dir: Path, site_link: Path, db: sqlite3.Connection) -> None:
        self.state_dir = state_dir
        self.site_link = site_link
        self.db = db
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, hash TEXT NOT NULL) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS pending(slot TEXT NOT NULL, path TEXT NOT NULL,
                PRIMARY KEY (slot, path)) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS slot_state(slot TEXT PRIMARY KEY, known INTEGER NOT NULL);
            """
        )
        if site_link.exists() and not site_link.is_symlink():
            raise BuildError(
                f"{site_link} is a real directory, not the symlink coderef manages; move it away "
                "(coderef writes the site into .coderef/slots/ and points the link at the finished one)"
            )

    def slot_dir(self, slot: str) -> Path:
        return self.state_dir / "slots" / slot

    def active(self) -> str | None:
        if not self.site_link.is_symlink():
            return None
        name = os.path.basename(os.readlink(self.site_link).rstrip("/"))
        return name if name in ("a", "b") and self.site_link.exists() else None

    @staticmethod
    def other(slot: str | None) -> str:
        return "b" if slot == "a" else "a"

    def known(self, slot: str) -> bool:
        row = self.db.execute("SELECT known FROM slot_state WHERE slot=?", (slot,)).fetchone()
        return bool(row and row[0])

    def manifest(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, hash FROM files"))

    def has_manifest(self) -> bool:
        return self.db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

    def pending(self, slot: str) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT path FROM pending WHERE slot=?", (slot,))}

    def open_target(self, *, clean: bool) -> tuple[str, Path, dict[str, str]]:
        """The slot to write, its directory and what it is known to hold (path -> hash).

        A slot whose contents are unknown (first build, or a build died while writing it) is
        wiped; `clean` also starts from an empty slot.
        """
        slot = self.other(self.active())
        d = self.slot_dir(slot)
        if clean or not self.known(slot) or self.active() is None:
            if d.exists():
                shutil.rmtree(d)
            holds: dict[str, str] = {}
        else:
            holds = self.manifest()
            for p in self.pending(slot):
                holds.pop(p, None)
                if (d / p).exists():
                    holds[p] = "?"  # stale: rewrite or delete
        d.mkdir(parents=True, exist_ok=True)
        self._set_known(slot, False)
        return slot, d, holds

    def _set_known(self, slot: str, known: bool) -> None:
        self.db.execute("INSERT OR REPLACE INTO slot_state VALUES (?, ?)", (slot, int(known)))

    def remove_stale(self, slot: str, holds: dict[str, str], new: dict[str, str]) -> int:
        return _remove(self.slot_dir(slot), holds.keys() - new.keys())

    def commit(self, slot: str, new: dict[str, str], changed: set[str]) -> None:
        """Makes `slot` live and records that the other slot now lags by `changed` paths."""
        self.swap(slot)
        old = self.other(slot)
        db = self.db
        db.execute("BEGIN")
        if changed is ALL:
            db.execute("DELETE FROM files")
            db.executemany("INSERT INTO files VALUES (?, ?)", new.items())
            db.execute("DELETE FROM pending WHERE slot=?", (old,))
            self._set_known(old, False)
        else:
            for p in changed:
                h = new.get(p)
                if h is None:
                    db.execute("DELETE FROM files WHERE path=?", (p,))
                else:
                    db.execute("INSERT OR REPLACE INTO files VALUES (?, ?)", (p, h))
            db.executemany("INSERT OR IGNORE INTO pending VALUES (?, ?)", [(old, p) for p in changed])
        db.execute("DELETE FROM pending WHERE slot=?", (slot,))
        self._set_known(slot, True)
        db.execute("COMMIT")

    def mirror(self, quiet: bool = True) -> int:
        """Brings the inactive slot level with the live one by hard links; returns paths touched."""
        live = self.active()
        if live is None:
            return 0
        slot = self.other(live)
        src, dst = self.slot_dir(live), self.slot_dir(slot)
        manifest = None
        if not self.known(slot):
            if dst.exists():
                shutil.rmtree(dst)
            manifest = self.manifest()
            paths: set[str] = set(manifest)
        else:
            paths = self.pending(slot)
            if paths:
                manifest = dict(self.db.execute(
                    "SELECT f.path, f.hash FROM files f JOIN pending p ON p.path = f.path AND p.slot=?", (slot,)
                ))
        if manifest is None:
            return 0
        gone = {p for p in paths if p not in manifest}
        _remove(dst, gone)
        made: set[str] = set()
        for p in sorted(paths - gone):
            target = dst / p
            parent = os.path.dirname(target)
            if parent not in made:
                os.makedirs(parent, exist_ok=True)
                made.add(parent)
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
            os.link(src / p, target)
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM pending WHERE slot=?", (slot,))
        self._set_known(slot, True)
        self.db.execute("COMMIT")
        return len(paths)

    def swap(self, slot: str) -> None:
        """Points `site` at `slot` with one rename: the only moment the live site changes."""
        rel_target = os.path.relpath(self.slot_dir(slot), self.site_link.parent)
        tmp = self.site_link.with_name(self.site_link.name + ".swap")
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(rel_target, tmp)
        os.replace(tmp, self.site_link)


class _All(set[str]):
    """Marker: every path changed (a clean build)."""


ALL: set[str] = _All()


def _remove(root: Path, paths: Iterable[str]) -> int:
    removed = 0
    dirs: set[str] = set()
    for rel in paths:
        try:
            os.unlink(root / rel)
            removed += 1
        except FileNotFoundError:
            pass
        dirs.add(os.path.dirname(rel))
    for rel in sorted(dirs, key=len, reverse=True):
        while rel:
            try:
                os.rmdir(root / rel)
            except OSError:
                break
            rel = os.path.dirname(rel)
    return removed
