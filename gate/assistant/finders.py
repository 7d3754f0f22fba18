"""Finding codes from words: the seam where the site's index meets CasePilot.

`TitleSearch` is what CasePilot has today: an FTS5 (BM25) word search of code titles and inclusion
terms in the build's facts, with lay synonyms. When the ICD-10-CM Alphabetic Index search (#12) offers
its Python API, a finder that asks it replaces this one here; answers name the finder they used
(`describe`), so nobody mistakes a title search for an index lookup.
"""
from __future__ import annotations

import itertools
from typing import Protocol

from .facts import Facts

Hit = tuple[str, str, str]  # (code set, code, title)
MAX_TERMS = 8  # a question's first distinct words: each is one more query of fewer words
MAX_GROUPS = 20  # word combinations tried in one query (a long question has very many)


class CodeFinder(Protocol):
    describe: str  # how the answer says the codes were found

    def find(
        self, facts: Facts, terms: list[str], codesets: tuple[str, ...], limit: int, strict: bool = False
    ) -> list[Hit]:
        """Codes for the words; `strict` for a question that did not ask for codes (no one-word matches)."""
        ...


class TitleSearch:
    describe = "a word search of official code titles and inclusion terms"

    def find(
        self, facts: Facts, terms: list[str], codesets: tuple[str, ...], limit: int, strict: bool = False
    ) -> list[Hit]:
        """Every word first; when no title has them all, fewer, down to any one of them. `strict`
        stops at two words and half of them, so that one common word ("from", "weather") never
        stands for a question that did not ask for a code ("appeal a denial from Aetna", "the weather
        in Paris")."""
        quoted = [f'"{t}"' for t in dict.fromkeys(terms)][:MAX_TERMS]
        needed = min(len(quoted), max(2, (len(quoted) + 1) // 2)) if strict else 1
        for size in range(len(quoted), needed - 1, -1):
            groups = list(itertools.islice(itertools.combinations(quoted, size), MAX_GROUPS))
            hits = facts.search_codes(" OR ".join(f"({' AND '.join(g)})" for g in groups), codesets, limit)
            if hits:
                return hits
        return []


DEFAULT_FINDER: CodeFinder = TitleSearch()
