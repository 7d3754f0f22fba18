"""Finding codes from words: the seam where the site's index meets CasePilot.

`TitleSearch` is what CasePilot has today: an FTS5 (BM25) word search of code titles and inclusion
terms in the build's facts, with lay synonyms. When the ICD-10-CM Alphabetic Index search (#12) offers
its Python API, a finder that asks it replaces this one here; answers name the finder they used
(`describe`), so nobody mistakes a title search for an index lookup.
"""
from __future__ import annotations

from typing import Protocol

from .facts import Facts

Hit = tuple[str, str, str]  # (code set, code, title)


class CodeFinder(Protocol):
    describe: str  # how the answer says the codes were found

    def find(self, facts: Facts, terms: list[str], codesets: tuple[str, ...], limit: int) -> list[Hit]: ...


class TitleSearch:
    describe = "a word search of official code titles and inclusion terms"

    def find(self, facts: Facts, terms: list[str], codesets: tuple[str, ...], limit: int) -> list[Hit]:
        """Every word first; when no title has them all, any of them."""
        for joiner in (" AND ", " OR "):
            hits = facts.search_codes(joiner.join(f'"{t}"' for t in terms), codesets, limit)
            if hits:
                return hits
        return []


DEFAULT_FINDER: CodeFinder = TitleSearch()
