"""Exact code lookup files: small static JSON buckets of code -> title, split by normalised prefix.

A code is normalised by lower-casing it and dropping everything but letters and digits
("S72.001A" -> "s72001a"), so "S72.001A", "s72001a" and "S72001A" all find the same entry.
Buckets form a prefix tree: a bucket holds every key that starts with its prefix and with no
longer bucket prefix, so the browser finds an exact code by fetching the one bucket whose prefix
is the longest one the query starts with.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .link import CodeSetModel
from .model import CodeRecord

ROOT_PREFIX = 3  # first split: ICD-10-CM category, PCS section+body system+operation, CPT "272"
MAX_BUCKET = 200  # entries; a bigger bucket is split one character deeper
TITLE_MAX = 160

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize(code: str) -> str:
    """The lookup form of a code or query: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", code.lower())


def display_title(rec: CodeRecord, public_summary: str) -> str:
    """What search shows beside a code: its official title, else its plain-language summary (CPT
    without a licensed descriptor), shortened."""
    text = " ".join((rec.title or rec.short_title or public_summary or "").split())
    return text if len(text) <= TITLE_MAX else text[: TITLE_MAX - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class Entry:
    norm: str
    key: str
    title: str
    billable: bool | None
    label: str = ""  # how the page names itself when that is not its key ("Chapter 19")
    change: str = ""  # the record's badge (CodeRecord.change) and its text
    change_label: str = ""


def entries(model: CodeSetModel, titles: list[str]) -> list[Entry]:
    """One entry per record with a lookup form, in official order. `titles` is indexed like records."""
    out: list[Entry] = []
    seen: set[str] = set()
    for rec, title in zip(model.records, titles, strict=True):
        norm = normalize(rec.key)
        if not norm or norm in seen:  # "A00-A09" and "A00A09" cannot both exist; keep the first
            continue
        seen.add(norm)
        out.append(Entry(
            norm, rec.key, title, rec.billable, rec.label if rec.label != rec.key else "", rec.change,
            rec.change_label,
        ))
    return out


def split(items: list[Entry], max_bucket: int = MAX_BUCKET) -> dict[str, list[Entry]]:
    """Buckets by prefix: a prefix holding more than `max_bucket` entries is split one character deeper
    (only by entries longer than it; the entries equal to the prefix stay in its own bucket)."""
    buckets: dict[str, list[Entry]] = {}
    pending: list[tuple[str, list[Entry]]] = []
    first: dict[str, list[Entry]] = {}
    for e in items:
        first.setdefault(e.norm[:ROOT_PREFIX], []).append(e)
    pending.extend(first.items())
    while pending:
        prefix, group = pending.pop()
        longer = [e for e in group if len(e.norm) > len(prefix)]
        if len(group) <= max_bucket or not longer:
            buckets[prefix] = group
            continue
        own = [e for e in group if len(e.norm) <= len(prefix)]
        if own:
            buckets[prefix] = own
        children: dict[str, list[Entry]] = {}
        for e in longer:
            children.setdefault(e.norm[: len(prefix) + 1], []).append(e)
        pending.extend(children.items())
    return dict(sorted(buckets.items()))


def bucket_json(codeset: str, prefix: str, group: list[Entry]) -> bytes:
    """One bucket file: `[[key, title, billable(, label(, change, change label))], ...]` in official order
    (billable 1/0/null; the label only when the page is named otherwise than by its key, else "" when
    a change follows; the change, e.g. "new", "New in FY2026", only for codes that have one)."""
    rows: list[list[object]] = []
    for e in group:
        row: list[object] = [e.key, e.title, None if e.billable is None else int(e.billable)]
        if e.label or e.change:
            row.append(e.label)
        if e.change:
            row += [e.change, e.change_label]
        rows.append(row)
    doc = {"codeset": codeset, "prefix": prefix, "codes": rows}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
