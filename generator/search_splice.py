"""The fast path's word index: an edit of hand-written pages spliced into the current generation of their
code set, instead of indexing all of it again (0.3-0.4 s for HCPCS, seconds for ICD-10-CM).

Every entry number stays, so only the entry chunks of the edited records and the shards of the tokens
their old and new entries hold change; the other files are hard links to the current generation. The
old entries come from what the generation keeps of its hand-written records (`words.hand_side`).
The result is what indexing the whole code set writes, or nothing: `splice` returns None, and the caller
indexes the code set as before, whenever the edit moves anything else:
  - a record's lookup entry changes (its search title, from a plain-language summary),
  - a record is folded into its base code, or no longer is,
  - a record has more or fewer entries of a kind (an added paragraph or inclusion line): every later
    entry number would move,
  - the generation is not current, or keeps nothing of the record.
tests/test_search_splice.py compares its files with the full indexer's (`search.prepare`) after many kinds
of edits.
"""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import search
from .config import SiteConfig
from .link import CodeSetModel
from .words import postings as pf
from .words import writer
from .words.entries import Entry, record_entries
from .words.hand_side import entry_record, lookup_signature, read_side

Posting = tuple[int, int]  # (entry number, info)
Held = tuple[int, bytes]  # a token's count of postings and the postings


def _record_now(
    cfg: SiteConfig, model: CodeSetModel, i: int, kept: dict[str, Any], poster: writer.Poster
) -> list[tuple[Entry, list[Any]]] | None:
    """Record `i`'s own entries as they are now, each with its record as kept (`hand_side.entry_record`),
    numbered as the kept ones; None when they cannot take the kept entries' places (see the module's list)."""
    title, texts, folded = search.record_text(cfg, model, i)
    if lookup_signature(model.records[i], title) != kept["lookup"]:
        return None
    # Foldable is folded: a parent is never folded itself (only 7-character codes are, and they have no
    # extensions).
    if folded != kept["folded"]:
        return None
    if folded:
        return []
    new = sorted((e for e in record_entries(i, title, texts) if e.slots), key=lambda e: e.kind)
    old = kept["entries"]
    if [e.kind for e in new] != [kind for _, kind, _ in old]:
        return None
    return [(e, entry_record(poster, eid, e)) for (eid, _, _), e in zip(old, new, strict=True)]


@dataclass
class Edit:
    """What the edited records change: postings out and in, entry rows, what the generation keeps."""

    gone: dict[str, set[Posting]] = field(default_factory=dict)
    added: dict[str, list[Posting]] = field(default_factory=dict)
    rows: dict[int, list[object]] = field(default_factory=dict)
    records: dict[str, Any] = field(default_factory=dict)


def _edit(cfg: SiteConfig, model: CodeSetModel, extra: search.Extra, side: dict[str, Any],
          keys: Collection[str]) -> Edit | None:
    poster = writer.Poster(extra.synonyms)
    out = Edit(records=dict(side["records"]))
    for key in sorted(keys):
        i = model.index.get(key)
        kept = out.records.get(key)
        if i is None or kept is None:
            return None
        now = _record_now(cfg, model, i, kept, poster)
        if now is None:
            return None
        for eid, _, postings in kept["entries"]:
            for t, info in postings:
                out.gone.setdefault(t, set()).add((eid, info))
        for e, record in now:
            eid = record[0]
            for t, info in record[2]:
                out.added.setdefault(t, []).append((eid, info))
            out.rows[eid] = writer.entry_rows(model, [e])[0]
        out.records[key] = {**kept, "entries": [record for _, record in now]}
    return out


class Shards:
    """The token shards of a generation's word index, read as needed."""

    def __init__(self, words: str, sizes: dict[str, int], groups: dict[str, list[str]]) -> None:
        self.words, self.sizes, self.prefixes = words, sizes, set(groups)
        self._read: dict[str, dict[str, Held]] = {}

    def get(self, t: str) -> Held | None:
        """A token's count and postings in the index (None: not in it)."""
        if t not in self.sizes:
            return None
        prefix = _home(self.prefixes, t)
        held = self._read.get(prefix)
        if held is None:
            held = self._read[prefix] = {}
            for tok, count, data in pf.read_shard(Path(self.words, f"t-{prefix}.bin").read_bytes()):
                own = data if data is not None else Path(self.words, f"p-{tok}.bin").read_bytes()
                held[tok] = (count, own)
        return held.get(t)


WordFiles = tuple[dict[str, bytes], set[str], dict[str, int]]  # written, removed, every token's size


def _word_files(words: str, side: dict[str, Any], edit: Edit) -> WordFiles | None:
    """The word index files the edit changes, those it removes, and every token's size after it."""
    meta = json.loads(Path(words, "meta.json").read_bytes())
    sizes: dict[str, int] = dict(side["sizes"])
    old_groups = writer.groups(sizes)
    if list(old_groups) != meta["shards"]:
        return None  # the kept sizes are not this index's
    shards = Shards(words, dict(sizes), old_groups)
    tokens = edit.gone.keys() | edit.added.keys()
    updated: dict[str, Held] = {}
    for t in tokens:
        found = shards.get(t)
        gone = edit.gone.get(t, set())
        kept = [p for p in pf.decode(found[1]) if p not in gone] if found is not None else []
        if len(kept) != (found[0] if found is not None else 0) - len(gone):
            return None  # the kept postings are not all in the index: not what it was made from
        merged = sorted(kept + edit.added.get(t, []))
        if merged:
            data = pf.encode(merged)
            updated[t] = (len(merged), data)
            sizes[t] = writer.size_of(data)
        else:
            sizes.pop(t, None)
    groups = writer.groups(sizes)
    prefixes = set(groups)
    # Shards to write: those holding an updated token, and those whose tokens changed (a shard grown past
    # its size splits, a new word may start a shard of its own).
    rewrite = {_home(prefixes, t) for t in updated}
    rewrite |= {prefix for prefix, toks in groups.items() if old_groups.get(prefix) != toks}
    files: dict[str, bytes] = {}
    for prefix in sorted(rewrite):
        toks = groups[prefix]
        held: dict[str, Held] = {}
        for t in toks:
            found = updated.get(t) or shards.get(t)
            if found is None:
                return None  # not in the index although its size was kept
            held[t] = found
        encoded = {t: data for t, (_, data) in held.items()}
        counts = {t: count for t, (count, _) in held.items()}
        for name, data in writer.shard_files(prefix, toks, encoded, counts).items():
            files[f"{search.WORDS_DIR}/{name}"] = data
    # Removed: shards of prefixes gone, own postings files of tokens gone or now small (those still large
    # were written again above).
    dropped = {f"{search.WORDS_DIR}/t-{prefix}.bin" for prefix in old_groups.keys() - prefixes}
    dropped |= {f"{search.WORDS_DIR}/p-{t}.bin" for t in tokens}
    if list(groups) != meta["shards"]:
        meta["shards"] = list(groups)
        files[f"{search.WORDS_DIR}/meta.json"] = json.dumps(meta, separators=(",", ":")).encode()
    return files, dropped, sizes


def _chunk_files(words: str, rows: dict[int, list[object]]) -> dict[str, bytes]:
    """The entry chunk files holding the edited entries, with their new rows."""
    chunks: dict[int, list[list[object]]] = {}
    for eid, row in sorted(rows.items()):
        n = eid // writer.CHUNK
        if n not in chunks:
            chunks[n] = json.loads(Path(words, f"e-{n}.json").read_bytes())
        chunks[n][eid % writer.CHUNK] = row
    return {f"{search.WORDS_DIR}/e-{n}.json": writer.chunk_file(chunk) for n, chunk in chunks.items()}


def splice(
    cfg: SiteConfig, model: CodeSetModel, out_dir: Path, extra: search.Extra, keys: Collection[str]
) -> str | None:
    """The generation of `model`'s index with the records of `keys` as they are now, made from the
    current one; None when only indexing the code set can make it."""
    cs_dir = out_dir / model.codeset
    current = search.current_generation(cs_dir, extra.inputs)
    if current is None:
        return None
    gen_dir = cs_dir / current
    side = read_side(gen_dir)
    if side is None:
        return None
    try:
        sums = json.loads((gen_dir / search.DIGESTS).read_text())
    except (OSError, ValueError):
        return None
    edit = _edit(cfg, model, extra, side, keys)
    if edit is None:
        return None
    base = f"{gen_dir}/{search.LOOKUP_DIR}"
    words = f"{base}/{search.WORDS_DIR}"
    made = _word_files(words, side, edit)
    if made is None:
        return None
    files, dropped, sizes = made
    files.update(_chunk_files(words, edit.rows))
    linked = {
        rel: (f"{base}/{rel}", (size, file_hash))
        for rel, (size, file_hash) in sums.items()
        if rel not in files and rel not in dropped
    }
    kept = {"records": edit.records, "sizes": sizes}
    return search.write_generation(cs_dir, model.codeset, files, kept, linked).generation


def _home(prefixes: set[str], token: str) -> str:
    """The longest shard prefix `token` starts with: its shard, when the shards are what `writer.groups`
    makes of the tokens ("" when none is)."""
    return next((token[:n] for n in range(len(token), 0, -1) if token[:n] in prefixes), "")
