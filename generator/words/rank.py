"""Ranking, as search.js does it (the same constants and formula; a browser test compares the two).

A query's tokens must all be found in one entry (whole words; a token longer than three characters
also as the start of a word, ranked lower). An entry scores by
  kind weight x mean match quality x (0.35 + 0.65 x the share of its needed slots the query covers),
plus 1 when the query is the entry exactly (every slot covered, every token a whole word or a listed
synonym): an exact title or index term ranks first. A code ranks by its best entry; ties keep the
official order (a category before its codes, the code an index line names before its siblings, since
index lines outweigh titles).
"""

from __future__ import annotations

from . import postings as pf
from .text import SHORT, STOP, tokens, words

# By entry kind (see entries.KIND_NAMES): title, inclusion, index, external, neoplasm, drug, pcs-index,
# definition, text.
WEIGHTS = (0.92, 0.85, 1.0, 0.95, 1.0, 1.0, 1.0, 0.6, 0.5)
EXACT = (1.0, 0.8, 1.0)  # by role: word, modifier, synonym
PREFIX = (0.7, 0.55, 0.7)


def query_tokens(query: str, phrases: set[str]) -> list[str]:
    """The query's tokens, multi-word synonyms joined ("heart attack" -> "heart_attack"), once each."""
    toks = tokens(query) or [w for w in words(query) if w]
    out: list[str] = []
    i = 0
    while i < len(toks):
        for n in (4, 3, 2):
            joined = "_".join(toks[i : i + n])
            if i + n <= len(toks) and joined in phrases:
                out.append(joined)
                i += n
                break
        else:
            out.append(toks[i])
            i += 1
    return list(dict.fromkeys(out))


def can_prefix(token: str) -> bool:
    return len(token) > SHORT and not token.isdigit() and "_" not in token


def quality(info: int, exact: bool) -> float:
    return (EXACT if exact else PREFIX)[info & 3]


def score(kind: int, slots: int, matches: list[tuple[float, int, bool]]) -> float:
    """`matches`: per query token (quality, slots covered, whole word)."""
    n = len(matches)
    mean = sum(m for m, _, _ in matches) / n
    covered = sum(c for _, c, _ in matches)
    share = min(1.0, covered / slots) if slots else 1.0
    s = WEIGHTS[kind] * mean * (0.35 + 0.65 * share)
    if covered >= slots and all(whole and m >= 1.0 for m, _, whole in matches):
        s += 1.0
    return s


__all__ = ["STOP", "can_prefix", "pf", "quality", "query_tokens", "score"]
