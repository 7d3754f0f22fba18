"""Finding codes from words: which word combinations the title search asks for, and how many."""

from __future__ import annotations

import re
from typing import Any, cast

import pytest

from gate.assistant.facts import Facts
from gate.assistant.finders import MAX_GROUPS, MAX_TERMS, TitleSearch


class Titles:
    """A stand-in for the facts' FTS5 search: titles hold words; a query is an OR of AND groups."""

    def __init__(self, titles: dict[str, set[str]]) -> None:
        self.titles = titles
        self.queries: list[list[list[str]]] = []

    def search_codes(self, match: str, codesets: tuple[str, ...], limit: int) -> list[tuple[str, str, str]]:
        groups = [re.findall(r'"([^"]+)"', g) for g in match.split(" OR ")]
        self.queries.append(groups)
        hits = [k for k, words in self.titles.items() if any(set(g) <= words for g in groups)]
        return [("icd-10-cm", k, k) for k in hits[:limit]]


def find(titles: Titles, terms: list[str], strict: bool) -> list[str]:
    return [k for _, k, _ in TitleSearch().find(cast(Facts, titles), terms, ("icd-10-cm",), 8, strict)]


TITLES = {
    "W11": {"fall", "from", "ladder"},
    "Z59.19": {"inadequate", "housing", "weather"},
    "S62.10": {"fracture", "wrist"},
}


@pytest.mark.parametrize(
    ("terms", "strict", "found"),
    [
        (["fracture", "wrist"], True, ["S62.10"]),  # every word
        (["fracture", "wrist", "left"], True, ["S62.10"]),  # two of three
        (["weather", "paris"], True, []),  # one of two: not for a question that asked for no code
        (["weather", "paris"], False, ["Z59.19"]),  # ... but when it asked for codes by words
        (["appeal", "denial", "from", "aetna"], True, []),
        (["fell", "off", "ladder"], False, ["W11"]),
        (["ladder"], True, ["W11"]),  # a one-word question: its word
    ],
)
def test_most_words_first_and_no_single_word_when_strict(
    terms: list[str], strict: bool, found: list[str]
) -> None:
    assert find(Titles(TITLES), terms, strict) == found


def test_a_long_question_asks_few_small_queries() -> None:
    titles = Titles({})
    terms = [f"word{i}" for i in range(12)]
    assert find(titles, terms, strict=False) == []
    assert len(titles.queries) == MAX_TERMS  # all of the first 8 words, then 7 of them, ... then 1
    assert all(len(q) <= MAX_GROUPS for q in titles.queries)
    used: set[Any] = {w for q in titles.queries for g in q for w in g}
    assert used == set(terms[:MAX_TERMS])
