"""Snapshots of the CMS data files a build read, kept beside the protected store (`var/assistant.d/`).

A build renders no premium section: the gate renders them on first unlock from these files, and
CasePilot answers from them. Each is a hard link to the normalised file (a copy across file
systems), named by the file's identity, so the store and the facts of one build name the same
snapshot, and a later `coderef import` (which renames a new file over the old one) cannot change
what the live store serves. `prune` removes the snapshots neither live file names any more.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

SNAPSHOT_DIR = "assistant.d"
STORE_META = "snapshots"  # the protected store's meta key: JSON {kind: snapshot file name}


def snapshot_dir(store_path: Path) -> Path:
    """The snapshots' folder, beside the protected store."""
    return store_path.parent / SNAPSHOT_DIR


def link(folder: Path, kind: str, path: Path) -> str:
    """A snapshot of `path` in `folder` (made once per identity of the file); its file name."""
    st = path.stat()
    ident = hashlib.blake2b(f"{st.st_ino}|{st.st_size}|{st.st_mtime_ns}".encode(), digest_size=8).hexdigest()
    name = f"{kind}-{ident}.sqlite"
    dest = folder / name
    if not dest.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(name + ".part")
        part.unlink(missing_ok=True)
        try:
            os.link(path, part)
        except OSError:  # another file system (or no hard links): the same bytes, copied
            shutil.copyfile(path, part)
        os.replace(part, dest)
    return name


def take(store_path: Path, files: Mapping[str, Path]) -> dict[str, str]:
    """Snapshots every file of `files` (kind -> normalised file): kind -> snapshot name."""
    folder = snapshot_dir(store_path)
    return {kind: link(folder, kind, path) for kind, path in files.items()}


def paths(store_path: Path, names: Mapping[str, str]) -> dict[str, Path]:
    """kind -> the snapshot file of each name of `take`."""
    folder = snapshot_dir(store_path)
    return {kind: folder / name for kind, name in names.items()}


def _names_in(path: Path, query: str) -> set[str]:
    if not path.exists():
        return set()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {str(r[0]) for r in db.execute(query)}
    except sqlite3.OperationalError:  # a file of an older schema names no snapshots
        return set()
    finally:
        db.close()


def live_names(store_path: Path) -> set[str]:
    """The snapshots the live protected store and the live CasePilot facts name."""
    names: set[str] = set()
    for value in _names_in(store_path, f"SELECT value FROM meta WHERE key='{STORE_META}'"):
        names.update(json.loads(value).values())
    names |= _names_in(store_path.with_name("assistant.sqlite"), "SELECT file FROM snapshots")
    return names


def prune(store_path: Path, keep: Iterable[str] = ()) -> None:
    """Removes the snapshots that neither the live store nor the live facts name (nor `keep`); a gate
    still reading an old one keeps its open file."""
    folder = snapshot_dir(store_path)
    if not folder.is_dir():
        return
    wanted = live_names(store_path) | set(keep)
    for p in folder.iterdir():
        if p.name not in wanted and not p.name.endswith(".part"):
            p.unlink(missing_ok=True)
