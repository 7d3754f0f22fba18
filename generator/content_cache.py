"""The hand-written content every build reads, parsed once per version of its files.

Every build reads the hand-written pages, the guides and the synonyms list, a no-op too (their problems
are reported on each run), and a full build reads the guides twice more. Parsing their Markdown and YAML
is ~90 ms on a slow machine: as long as the rest of a no-op build, and a tenth of the fast path of one
edited page. Each kind is kept as one pickle in the build's cache (`pickle_cache`), keyed by the
generator's code and every file's path and content hash (for the pages, those `state.hand_hashes` took):
an edit is never missed, whatever its timestamp. The pickle holds the problems its parse reported too: a
read from the cache reports them again.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TypeVar

from .config import SiteConfig
from .content import HandPage, read_pages
from .errors import Problems
from .guides import Guide, read_guides
from .load import code_version
from .pickle_cache import cache_file, cached
from .words import synonyms
from .words.synonyms import Synonym

T = TypeVar("T")
CACHE_VERSION = "1"


def hand_pages(cfg: SiteConfig, problems: Problems, hashes: Mapping[str, str]) -> list[HandPage]:
    """`content.read_pages` of the project, through the cache; `hashes`: `state.hand_hashes` of the pages
    (the build takes them anyway: the pages are not read twice for the key)."""
    return _parsed(cfg, "parsed-pages", sorted(hashes.items()), problems,
                   lambda found: read_pages(cfg.content_dir, cfg.root, found))


def guides(cfg: SiteConfig, problems: Problems) -> list[Guide]:
    """`guides.read_guides` of the project, through the cache."""
    folder = cfg.content_dir / "guides"
    files = sorted(folder.glob("*.md")) if folder.is_dir() else []
    return _parsed(cfg, "parsed-guides", _hashed(files), problems,
                   lambda found: read_guides(cfg.content_dir, cfg.root, found))


def synonym_list(cfg: SiteConfig, problems: Problems) -> list[Synonym]:
    """`synonyms.load` of the project, through the cache."""
    path = cfg.root / synonyms.PATH
    return _parsed(cfg, "parsed-synonyms", _hashed([path] if path.exists() else []), problems,
                   lambda found: synonyms.load(cfg.root, found))


def _hashed(files: Iterable[Path]) -> list[tuple[str, str]]:
    return [(str(path), hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()) for path in files]


def _parsed(
    cfg: SiteConfig, kind: str, files: Iterable[tuple[str, str]], problems: Problems,
    make: Callable[[Problems], T],
) -> T:
    """`make(problems)` of the files it reads, given as (path, content hash) pairs, kept in the cache with
    the problems it reported."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{CACHE_VERSION}|{code_version(cfg.root)}|{cfg.root}|{kind}".encode())
    for path, digest in files:
        h.update(f"|{path}={digest}".encode())
    found = Problems()
    value, items = cached(cache_file(cfg.state_dir / "cache", kind, h.hexdigest()), kind,
                          lambda: (make(found), found.items))
    problems.items.extend(items)
    return value
