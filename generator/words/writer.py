"""One code set's word index as files: token shards, entry chunks and a meta file (see `postings`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..link import CodeSetModel
from . import postings as pf
from .entries import KIND_LABELS, Entry, SynonymIndex
from .synonyms import Synonym

SHARD_BYTES = 48_000  # a shard bigger than this is split by one more character of its tokens
OWN_FILE = 16_000  # a token with more postings bytes than this gets a file of its own
CHUNK = 64  # entries per chunk file
FIRST = 2  # characters of the first split


class Poster:
    """What each token of an entry tells ranking about it: its best role in the entry, packed with the
    entry's kind and length into `info`."""

    def __init__(self, synonyms: list[Synonym]) -> None:
        self.syns = SynonymIndex(synonyms)
        self.packed: dict[tuple[int, int, tuple[int, int]], int] = {}  # (kind, slots, (role, cover)) -> info

    def roles(self, e: Entry) -> dict[str, tuple[int, int]]:
        """token -> (role, cover) in one entry, its best role winning."""
        roles: dict[str, tuple[int, int]] = {}
        modifier = pf.MODIFIER
        for t in e.extra:
            roles[t] = (modifier, 0)
        for token, cover in self.syns.tokens_for(e).items():
            if token not in roles or roles[token][0] == modifier:
                roles[token] = (pf.SYNONYM, cover)
        slots = e.slots
        if slots:
            first = (pf.WORD, 2 if e.main else 1)
            for t in slots[0]:
                roles[t] = first
            rest = (pf.WORD, 1)
            for slot in slots[1:]:
                for t in slot:
                    roles[t] = rest
        return roles

    def info(self, e: Entry, rc: tuple[int, int]) -> int:
        key = (e.kind, len(e.slots) + (1 if e.main else 0), rc)
        found = self.packed.get(key)
        if found is None:
            found = self.packed[key] = pf.pack(key[0], key[1], rc[1], rc[0])
        return found

    def entry(self, e: Entry) -> list[tuple[str, int]]:
        """(token, info) of each token of one entry."""
        info = self.info
        return [(t, info(e, rc)) for t, rc in self.roles(e).items()]


def postings(entries: list[Entry], synonyms: list[Synonym]) -> dict[str, list[tuple[int, int]]]:
    """token -> [(entry, info)], entries ascending."""
    out: dict[str, list[tuple[int, int]]] = {}
    poster = Poster(synonyms)
    roles, info = poster.roles, poster.info
    for eid, e in enumerate(entries):
        # `info` depends on (role, cover) only, within an entry: made once per distinct pair.
        infos: dict[tuple[int, int], tuple[int, int]] = {}
        for t, rc in roles(e).items():
            posting = infos.get(rc)
            if posting is None:
                posting = infos[rc] = (eid, info(e, rc))
            found = out.get(t)
            if found is None:
                out[t] = [posting]
            else:
                found.append(posting)
    return out


def groups(sizes: dict[str, int]) -> dict[str, list[str]]:
    """Tokens by shard prefix: first by FIRST characters, a shard over SHARD_BYTES one character deeper
    (tokens no longer than the prefix stay in its shard)."""
    out: dict[str, list[str]] = {}
    pending: list[tuple[str, list[str]]] = []
    first: dict[str, list[str]] = {}
    for t in sorted(sizes):
        first.setdefault(t[:FIRST], []).append(t)
    pending.extend(first.items())
    while pending:
        prefix, toks = pending.pop()
        longer = [t for t in toks if len(t) > len(prefix)]
        if sum(sizes[t] for t in toks) <= SHARD_BYTES or not longer or len(prefix) >= 6:
            out[prefix] = toks
            continue
        own = [t for t in toks if len(t) <= len(prefix)]
        if own:
            out[prefix] = own
        deeper: dict[str, list[str]] = {}
        for t in longer:
            deeper.setdefault(t[: len(prefix) + 1], []).append(t)
        pending.extend(deeper.items())
    return dict(sorted(out.items()))


def size_of(data: bytes) -> int:
    """What a token's postings weigh in grouping tokens into shards."""
    return min(len(data), OWN_FILE)


def shard_files(
    prefix: str, toks: list[str], encoded: Mapping[str, bytes], counts: Mapping[str, int]
) -> dict[str, bytes]:
    """The shard of `prefix` holding `toks` (sorted), and the own file of each of them with postings
    over OWN_FILE bytes."""
    out: dict[str, bytes] = {}
    records: list[tuple[str, int, bytes | None]] = []
    for t in toks:
        data = encoded[t]
        if len(data) > OWN_FILE:
            out[f"p-{t}.bin"] = data
            records.append((t, counts[t], None))
        else:
            records.append((t, counts[t], data))
    out[f"t-{prefix}.bin"] = pf.shard(records)
    return out


def entry_rows(model: CodeSetModel, entries: Iterable[Entry]) -> list[list[object]]:
    """The rows of entry chunk files: kind, what the result line shows, the target codes."""
    recs = model.records
    return [[e.kind, e.via, *(recs[i].key for i in e.targets)] for e in entries]


def chunk_file(rows: list[list[object]]) -> bytes:
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass
class Written:
    files: dict[str, bytes]  # by name (the caller writes them into one folder)
    sizes: dict[str, int]  # token -> `size_of` its postings (see generator/search_splice.py)


def files(model: CodeSetModel, entries: list[Entry], synonyms: list[Synonym]) -> Written:
    """All files of one code set's index."""
    out: dict[str, bytes] = {}
    table = postings(entries, synonyms)
    encoded = {t: pf.encode(p) for t, p in table.items()}
    counts = {t: len(p) for t, p in table.items()}
    sizes = {t: size_of(d) for t, d in encoded.items()}
    shards = groups(sizes)
    for prefix, toks in shards.items():
        out.update(shard_files(prefix, toks, encoded, counts))
    for start in range(0, len(entries), CHUNK):
        out[f"e-{start // CHUNK}.json"] = chunk_file(entry_rows(model, entries[start : start + CHUNK]))
    meta = {
        "v": 1,
        "codeset": model.codeset,
        "entries": len(entries),
        "chunk": CHUNK,
        "shards": list(shards),
        "phrases": sorted({s.token for s in synonyms if "_" in s.token}),
        "labels": list(KIND_LABELS),
    }
    out["meta.json"] = json.dumps(meta, separators=(",", ":")).encode()
    return Written(out, sizes)
