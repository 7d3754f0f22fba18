"""The build's memory between runs: input fingerprints, hand-page identities, search digests."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from .config import SiteConfig
from .history import history_inputs
from .load import code_version, importers_for, source_for, stat_key
from .progress import say

# Whether the live site's word indexes of the code sets follow its content: a full build with search makes
# them current, one without search or a fast path without search that changed public text does not.
SEARCH_META, SEARCH_CURRENT, SEARCH_MISSING = "codeset-search", "current", "missing or stale"
HandRow = tuple[str, str, str, str]  # content path, hash, identity, public-text digest (see identity.py)


def open_state(state_dir: Path) -> sqlite3.Connection:
    state_dir.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(state_dir / "state.sqlite", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(
        """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS hand(path TEXT PRIMARY KEY, hash TEXT NOT NULL, ident TEXT NOT NULL,
            public TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS search(codeset TEXT PRIMARY KEY, digest TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS search_files(codeset TEXT NOT NULL, path TEXT NOT NULL,
            PRIMARY KEY (codeset, path)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS file_hash(path TEXT PRIMARY KEY, stat TEXT NOT NULL, hash TEXT NOT NULL);
        """
    )
    return db


def get_meta(db: sqlite3.Connection, key: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(db: sqlite3.Connection, key: str, value: str) -> None:
    db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))


def search_follows(db: sqlite3.Connection) -> bool:
    """Whether the live site's word indexes of the code sets follow its content (see SEARCH_META): a
    build with search may take a fast path, else it indexes them in full."""
    return get_meta(db, SEARCH_META) == SEARCH_CURRENT


def search_state(search: bool) -> dict[str, str]:
    """What a full build records of its word indexes."""
    return {SEARCH_META: SEARCH_CURRENT if search else SEARCH_MISSING}


def search_digests(db: sqlite3.Connection) -> dict[str, str]:
    """Per code set, the digest of the public text its search index was built from."""
    return dict(db.execute("SELECT codeset, digest FROM search"))


def hand_records(db: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    """Per hand-written page of the last build: its hash, identity and public-text digest."""
    return {p: (h, ident, public) for p, h, ident, public in db.execute("SELECT * FROM hand")}


def search_file_paths(db: sqlite3.Connection, codeset: str) -> set[str]:
    """The site paths of the search files last published for a code set."""
    return {str(r[0]) for r in db.execute("SELECT path FROM search_files WHERE codeset=?", (codeset,))}


def record_build(
    db: sqlite3.Connection, *, complete: bool, hand: Sequence[HandRow], meta: Mapping[str, str] | None = None,
    search: Mapping[str, str] | None = None, search_files: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Records what a build produced, in one transaction.

    `complete` (a full build): `hand`, `search` and `search_files` replace everything recorded;
    otherwise (the fast path) they update the pages and code sets they name. `search` is each
    indexed code set's public-text digest ("": unknown, re-index on the next full build), and
    `search_files` each code set's published search files; None leaves them as they were.
    """
    db.execute("BEGIN")
    for key, value in (meta or {}).items():
        set_meta(db, key, value)
    if complete:
        db.execute("DELETE FROM hand")
    db.executemany("INSERT OR REPLACE INTO hand VALUES (?, ?, ?, ?)", hand)
    if search is not None:
        if complete:
            db.execute("DELETE FROM search")
        db.executemany("INSERT OR REPLACE INTO search VALUES (?, ?)", sorted(search.items()))
    if search_files is not None:
        if complete:
            db.execute("DELETE FROM search_files")
        for cs, paths in search_files.items():
            db.execute("DELETE FROM search_files WHERE codeset=?", (cs,))
            db.executemany("INSERT INTO search_files VALUES (?, ?)", [(cs, rel) for rel in paths])
    db.execute("COMMIT")


def global_fingerprint(cfg: SiteConfig) -> str:
    """Everything except hand-written pages that decides the output: code, theme, config, sources."""
    h = hashlib.blake2b(digest_size=16)
    h.update(code_version(cfg.root).encode())
    theme = cfg.theme_dir
    for p in sorted(theme.rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(theme)).encode())
            h.update(p.read_bytes())
    site_yml = cfg.content_dir / "site.yml"
    if site_yml.exists():
        h.update(site_yml.read_bytes())
    for codeset, imp in sorted(importers_for(cfg).items()):
        src = source_for(cfg, imp)
        h.update(f"{codeset}={stat_key(src) if src else '-'}".encode())
    for extra in (
        sorted((cfg.content_dir / "codesets").glob("*")) if (cfg.content_dir / "codesets").is_dir() else []
    ):
        h.update(extra.name.encode())
        h.update(extra.read_bytes())
    guides = cfg.content_dir / "guides"
    for p in sorted(guides.glob("*.md")) if guides.is_dir() else []:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    for p in history_inputs(cfg):  # earlier releases (generator/history)
        h.update(f"history={stat_key(p)}".encode())
    from .reference import sources as book_sources

    for kind, src in book_sources(cfg):
        h.update(f"{kind}={stat_key(src)}".encode())
    search_dir = cfg.content_dir / "search"
    for extra in sorted(search_dir.glob("*")) if search_dir.is_dir() else []:
        h.update(extra.name.encode())
        h.update(extra.read_bytes())
    h.update(str(cfg.store_path).encode())
    return h.hexdigest()


def hand_hashes(content_dir: Path, root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    codes = content_dir / "codes"
    if codes.is_dir():
        for p in sorted(codes.glob("*/*.md")):
            out[str(p.relative_to(root))] = hashlib.blake2b(p.read_bytes(), digest_size=16).hexdigest()
    return out


@contextlib.contextmanager
def build_lock(state_dir: Path, *, quiet: bool) -> Iterator[None]:
    """One build at a time per project: a second one waits (both would write the standby slot)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "build.lock", "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("build      another build of this project is running; waiting for it to finish", quiet=quiet)
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
