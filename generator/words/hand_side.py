"""What a search generation keeps of its hand-written records, for the fast path to splice an edit in
(generator/search_splice.py) instead of indexing the whole code set again.

Kept beside the generation's files (`SIDE`, never published): per hand-written record, what its lookup
entry shows, whether it is folded into its base code, and its own entries (title and public sections:
`entries.record_entries`) with their entry numbers and postings; and every token's size, which decides
how tokens are grouped into shards. An edit's old entries are known from this without the old text.
"""
from __future__ import annotations

import bisect
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from ..link import CodeSetModel
from ..model import CodeRecord
from .entries import OWN_KINDS, Entry
from .synonyms import Synonym
from .writer import Poster

SIDE = "hand.json"


def lookup_signature(rec: CodeRecord, title: str) -> list[Any]:
    """What the record's lookup entry shows besides its code (see `generator.lookup.entries`)."""
    return [title, rec.billable, rec.label if rec.label != rec.key else "", rec.change, rec.change_label]


def own_entries(found: list[Entry], i: int) -> list[tuple[int, Entry]]:
    """(entry number, entry) of record `i`'s own entries in a code set's sorted entries (sorted by first
    target, then kind: `Entry.order`)."""
    lo = bisect.bisect_left(found, i, key=lambda e: e.targets[0])
    hi = bisect.bisect_right(found, i, lo=lo, key=lambda e: e.targets[0])
    return [(eid, e) for eid in range(lo, hi) if (e := found[eid]).kind in OWN_KINDS and len(e.targets) == 1]


def entry_record(poster: Poster, eid: int, e: Entry) -> list[Any]:
    """One own entry as kept: number, kind, and its postings as (token, info)."""
    return [eid, e.kind, [[t, info] for t, info in poster.entry(e)]]


def side_data(
    model: CodeSetModel, titles: list[str], folded: set[int], found: list[Entry], sizes: dict[str, int],
    synonyms: list[Synonym], hand: Collection[str],
) -> dict[str, Any]:
    poster = Poster(synonyms)
    records: dict[str, Any] = {}
    for key in sorted(hand):
        i = model.index.get(key)
        if i is None:
            continue
        records[key] = {
            "lookup": lookup_signature(model.records[i], titles[i]),
            "folded": i in folded,
            "entries": [entry_record(poster, eid, e) for eid, e in own_entries(found, i)],
        }
    return {"records": records, "sizes": sizes}


def write_side(gen_dir: Path, data: dict[str, Any]) -> None:
    (gen_dir / SIDE).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def read_side(gen_dir: Path) -> dict[str, Any] | None:
    """The kept data, or None when the generation has none (made before it was kept, or unreadable)."""
    try:
        data = json.loads((gen_dir / SIDE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "records" in data and "sizes" in data else None
