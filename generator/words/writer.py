"""One code set's word index as files: token shards, entry chunks and a meta file (see `postings`)."""

from __future__ import annotations

import json

from ..link import CodeSetModel
from . import postings as pf
from .entries import KIND_LABELS, Entry, SynonymIndex
from .synonyms import Synonym

SHARD_BYTES = 48_000  # a shard bigger than this is split by one more character of its tokens
OWN_FILE = 16_000  # a token with more postings bytes than this gets a file of its own
CHUNK = 64  # entries per chunk file
FIRST = 2  # characters of the first split


def postings(entries: list[Entry], synonyms: list[Synonym]) -> dict[str, list[tuple[int, int]]]:
    """token -> [(entry, info)], entries ascending; a token's best role in an entry wins."""
    out: dict[str, list[tuple[int, int]]] = {}
    syns = SynonymIndex(synonyms)
    word, modifier, synonym = pf.WORD, pf.MODIFIER, pf.SYNONYM
    pack = pf.pack
    packed: dict[tuple[int, int, tuple[int, int]], int] = {}  # (kind, slots, (role, cover)) -> info
    for eid, e in enumerate(entries):
        n = len(e.slots) + (1 if e.main else 0)
        roles: dict[str, tuple[int, int]] = {}  # token -> (role, cover)
        for t in e.extra:
            roles[t] = (modifier, 0)
        for token, cover in syns.tokens_for(e).items():
            if token not in roles or roles[token][0] == modifier:
                roles[token] = (synonym, cover)
        slots = e.slots
        if slots:
            first = (word, 2 if e.main else 1)
            for t in slots[0]:
                roles[t] = first
            rest = (word, 1)
            for slot in slots[1:]:
                for t in slot:
                    roles[t] = rest
        # `info` depends on (role, cover) only, within an entry: made once per distinct pair.
        infos: dict[tuple[int, int], tuple[int, int]] = {}
        for t, rc in roles.items():
            posting = infos.get(rc)
            if posting is None:
                key = (e.kind, n, rc)
                info = packed.get(key)
                if info is None:
                    info = packed[key] = pack(e.kind, n, rc[1], rc[0])
                posting = infos[rc] = (eid, info)
            found = out.get(t)
            if found is None:
                out[t] = [posting]
            else:
                found.append(posting)
    return out


def _groups(sizes: dict[str, int]) -> dict[str, list[str]]:
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


def files(model: CodeSetModel, entries: list[Entry], synonyms: list[Synonym]) -> dict[str, bytes]:
    """All files of one code set's index, by name (the caller writes them into one folder)."""
    out: dict[str, bytes] = {}
    table = postings(entries, synonyms)
    encoded = {t: pf.encode(p) for t, p in table.items()}
    sizes = {t: min(len(d), OWN_FILE) for t, d in encoded.items()}
    shards = _groups(sizes)
    for prefix, toks in shards.items():
        records: list[tuple[str, int, bytes | None]] = []
        for t in toks:
            data = encoded[t]
            if len(data) > OWN_FILE:
                out[f"p-{t}.bin"] = data
                records.append((t, len(table[t]), None))
            else:
                records.append((t, len(table[t]), data))
        out[f"t-{prefix}.bin"] = pf.shard(records)
    recs = model.records
    for start in range(0, len(entries), CHUNK):
        rows = [[e.kind, e.via, *(recs[i].key for i in e.targets)] for e in entries[start : start + CHUNK]]
        out[f"e-{start // CHUNK}.json"] = json.dumps(rows, ensure_ascii=False, separators=(",", ":")).encode()
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
    return out
