"""What a record shows beyond its own page: its identity (seen by other pages) and its public text.

The fast path of hand-written edits re-renders only the edited pages, which is right only while
what other pages show of them (the identity: title, parent, order…) is unchanged; and it
re-indexes a code set for search only when a page's public text changed (its digest).
"""
from __future__ import annotations

import xxhash

from .config import SiteConfig
from .content import HandPage
from .link import CodeSetModel

# Digests of public sections, keyed on their (id, text): imported sections are shared by
# thousands of records, so this is mostly dictionary hits. One memo per process and build.
DigestMemo = dict[tuple[str, str], str]


def public_digest(cfg: SiteConfig, model: CodeSetModel, i: int, memo: DigestMemo | None = None) -> bytes:
    """What search indexes of a record, as a digest."""
    rec = model.records[i]
    parts = [
        rec.key, rec.title, rec.short_title, rec.kind, str(rec.billable), rec.parent or "", rec.change_label,
    ]
    for s in rec.sections:
        if not cfg.is_protected(s.kind, s.protected):
            key = (s.id, s.text)
            hit = memo.get(key) if memo is not None else None
            if hit is None:
                hit = xxhash.xxh3_64_hexdigest(f"{s.id}\x1f{s.text}".encode())
                if memo is not None:
                    memo[key] = hit
            parts.append(hit)
    return xxhash.xxh3_64_digest("\x1f".join(parts).encode())


def record_identity(model: CodeSetModel, i: int) -> str:
    """What other pages show of a record (breadcrumbs, trees, child lists, the pager)."""
    rec = model.records[i]
    fields = [rec.key, rec.title, rec.short_title, rec.kind, str(rec.billable), rec.parent or ""]
    return "\x1f".join([*fields, str(rec.order)])


def hand_identities(
    models: dict[str, CodeSetModel], pages: list[HandPage], cfg: SiteConfig
) -> dict[str, tuple[str, str]]:
    """Per hand page: what other pages show of it (identity) and its public search text digest.

    The fast path may re-render only the page itself when neither changed.
    """
    out: dict[str, tuple[str, str]] = {}
    for page in pages:
        model = models.get(page.codeset)
        if model is None or page.key not in model.index:
            continue
        i = model.index[page.key]
        out[page.path] = (record_identity(model, i), public_digest(cfg, model, i).hex())
    return out
