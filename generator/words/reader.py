"""Word search over a built site from Python: the same files and ranking as the browser's search.

    from generator.words.reader import WordSearch
    hits = WordSearch(Path("site")).search("broken wrist", limit=10)
    # [Hit(codeset='icd-10-cm', key='S62.10', title='Fracture of unspecified carpal bone…', …), …]

Made for server-side callers (the assistant): it reads `/lookup/<codeset>/w/*` and the lookup buckets
under `site/` (public files only), caching what it has read; a rebuilt site needs a new `WordSearch`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from .. import lookup
from . import postings as pf
from .rank import can_prefix, quality, query_tokens, score


@dataclass(frozen=True, slots=True)
class Hit:
    codeset: str
    key: str
    title: str
    billable: bool | None
    score: float
    via: str  # the index line, table row or term that led here ("" when the title matched)
    source: str  # what `via` is: "Index", "Neoplasm Table", … ("" for a title)


class _CodeSet:
    def __init__(self, site: Path, codeset: str) -> None:
        self.codeset = codeset
        self.dir = site / "lookup" / codeset
        self.meta: dict[str, Any] = json.loads((self.dir / "w" / "meta.json").read_text())
        self.shards: list[str] = self.meta["shards"]
        self.phrases = set(self.meta["phrases"])
        self.labels: list[str] = self.meta["labels"]
        self.buckets: list[str] = json.loads((self.dir / "index.json").read_text())["buckets"]
        self._shard = cache(self._read_shard)
        self._chunk = cache(self._read_chunk)
        self._bucket = cache(self._read_bucket)

    def _read_shard(self, prefix: str) -> dict[str, tuple[int, bytes | None]]:
        data = (self.dir / "w" / f"t-{prefix}.bin").read_bytes()
        return {t: (n, d) for t, n, d in pf.read_shard(data)}

    def _read_chunk(self, n: int) -> list[list[str]]:
        rows: list[list[str]] = json.loads((self.dir / "w" / f"e-{n}.json").read_text())
        return rows

    def _read_bucket(self, prefix: str) -> dict[str, list[Any]]:
        doc = json.loads((self.dir / f"{prefix}.json").read_text())
        return {lookup.normalize(row[0]): row for row in doc["codes"]}

    def postings(self, token: str) -> dict[int, tuple[int, bool]]:
        """entry -> (info, whole word) for `token` and, when it may be a prefix, every token it starts;
        per entry the best match."""
        prefix = can_prefix(token)
        wanted = [p for p in self.shards if token.startswith(p)]
        own = [max(wanted, key=len)] if wanted else []
        below = [p for p in self.shards if prefix and len(p) > len(token) and p.startswith(token)]
        out: dict[int, tuple[int, bool]] = {}
        for shard in own + below:
            for t, (_, data) in self._shard(shard).items():
                exact = t == token
                if not exact and not (prefix and t.startswith(token) and "_" not in t):
                    continue
                if data is None:
                    data = (self.dir / "w" / f"p-{t}.bin").read_bytes()
                for entry, info in pf.decode(data):
                    old = out.get(entry)
                    if old is None or quality(info, exact) > quality(*old):
                        out[entry] = (info, exact)
        return out

    def ranked(self, toks: list[str]) -> list[tuple[float, int]]:
        """(score, entry) of every entry holding all tokens, best first."""
        lists = [self.postings(t) for t in toks]
        if not lists or not all(lists):
            return []
        out = []
        for entry, first in min(lists, key=len).items():
            found = [other.get(entry) for other in lists]
            if any(f is None for f in found):
                continue
            matches = [(quality(info, whole), pf.unpack(info)[2], whole) for info, whole in found]  # type: ignore[misc]
            kind, slots, _, _ = pf.unpack(first[0])
            out.append((score(kind, slots, matches), entry))
        out.sort(key=lambda x: (-x[0], x[1]))
        return out

    def targets(self, entry: int) -> tuple[int, str, list[str]]:
        """(kind, via, keys) of an entry."""
        row = self._chunk(entry // self.meta["chunk"])[entry % self.meta["chunk"]]
        return int(row[0]), str(row[1]), [str(k) for k in row[2:]]

    def describe(self, key: str) -> tuple[str, bool | None]:
        n = lookup.normalize(key)
        prefix = max((p for p in self.buckets if n.startswith(p)), key=len, default=None)
        row = self._bucket(prefix).get(n) if prefix is not None else None
        if row is None:
            return "", None
        return str(row[1]), None if row[2] is None else bool(row[2])


class WordSearch:
    """Searches the code sets of a built site (`site` is the folder holding `lookup/`)."""

    def __init__(self, site: Path) -> None:
        index = json.loads((site / "lookup" / "index.json").read_text())
        self.sets = [
            _CodeSet(site, cs["slug"])
            for cs in index["codesets"]
            if (site / "lookup" / cs["slug"] / "w").is_dir()
        ]

    def search(self, query: str, codeset: str = "", limit: int = 20) -> list[Hit]:
        ranked: list[tuple[float, int, int]] = []
        for n, cs in enumerate(self.sets):
            if codeset and cs.codeset != codeset:
                continue
            toks = query_tokens(query, cs.phrases)
            ranked.extend((s, n, e) for s, e in cs.ranked(toks))
        ranked.sort(key=lambda x: (-x[0], x[1], x[2]))
        hits: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        for s, n, entry in ranked:
            cs = self.sets[n]
            kind, via, keys = cs.targets(entry)
            for key in keys:
                if (cs.codeset, key) in seen:
                    continue
                seen.add((cs.codeset, key))
                title, billable = cs.describe(key)
                hits.append(
                    Hit(cs.codeset, key, title, billable, round(s, 6), via, cs.labels[kind] if via else "")
                )
                if len(hits) >= limit:
                    return hits
        return hits
