"""Linking: the hierarchy (parent, children) and reading order (previous/next) of each code set."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from .errors import Problems
from .model import CodeRecord
from .progress import phase


@dataclass
class CodeSetModel:
    """One code set, linked. `records` keeps official order; indices point into it."""

    codeset: str
    records: list[CodeRecord]
    index: dict[str, int] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    prev: dict[int, int] = field(default_factory=dict)
    next: dict[int, int] = field(default_factory=dict)
    roots: list[int] = field(default_factory=list)

    @functools.cached_property
    def code_count(self) -> int:
        """Pages of codes (not browse nodes). Cached: `records` no longer changes once linked."""
        return sum(1 for r in self.records if r.is_code)


def link(codeset: str, records: list[CodeRecord], problems: Problems) -> CodeSetModel:
    """Derives children, roots and previous/next code from `parent` and `order`."""
    records.sort(key=lambda r: r.order)
    model = CodeSetModel(codeset, records)
    index = model.index
    for i, rec in enumerate(records):
        index[rec.key] = i
    for i, rec in enumerate(records):
        if rec.parent is None:
            model.roots.append(i)
            continue
        p = index.get(rec.parent)
        if p is None:
            problems.error(
                rec.origin or codeset, 0, f"{rec.display}: parent '{rec.parent}' does not exist in {codeset}"
            )
            model.roots.append(i)
            continue
        model.parent[i] = p
        model.children.setdefault(p, []).append(i)
    last = -1
    for i, rec in enumerate(records):
        if not rec.is_code:
            continue
        if last >= 0:
            model.prev[i] = last
            model.next[last] = i
        last = i
    return model


def link_models(
    models: dict[str, CodeSetModel], problems: Problems, *, quiet: bool = False
) -> dict[str, CodeSetModel]:
    """The link stage: every loaded code set linked (see `link`); problems are collected."""
    with phase("link", quiet=quiet):
        return {codeset: link(codeset, model.records, problems) for codeset, model in models.items()}


def ancestors(model: CodeSetModel, i: int) -> list[int]:
    """Indices from the root down to (not including) `i`."""
    out: list[int] = []
    p = model.parent.get(i)
    while p is not None:
        out.append(p)
        p = model.parent.get(p)
    out.reverse()
    return out
