"""Cross-references of the alphabetic indexes: `see`/`see also` resolved to terms, terms to the codes
they lead to, and the reverse (code -> index paths) for the "Index entries for this code" block.

A `see` names a path of comma-separated terms ("Infarct, myocardium"): the main term is matched by
its title or the first words of it ("Infarct" is "Infarct, infarction"), each further part by a
subterm's title or one of its comma-separated variants ("myocardium" is "myocardium, myocardial").
`see` and `see also` that point at the tables ("Neoplasm, malignant, by site", "Table of Drugs and
Chemicals") resolve to the table (and its row when one is named); generic instructions ("see
condition") are not cross-references.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from .books import CM_DRUG, CM_INDEX, CM_NEOPLASM, IndexBook, IndexTerm

_PARENS = re.compile(r"\([^)]*\)")
_SPACE = re.compile(r"\s+")
GENERIC = frozenset(
    {
        "condition",
        "also condition",
        "by site",
        "specific condition",
        "disease, by site",
        "also disease, by site",
        "anatomical site",
        "also specific condition",
        "specified condition",
        "condition, by site",
    }
)
_CODE_REF = re.compile(
    r"^(?:category|subcategory|code|codes)\s+([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]{0,5})?)", re.I
)
# Words that name a Neoplasm Table column in a cross-reference ("Neoplasm, skin, benign").
NEOPLASM_COLUMNS = {
    "malignant": 0,
    "malignant primary": 0,
    "primary": 0,
    "malignant secondary": 1,
    "secondary": 1,
    "in situ": 2,
    "ca in situ": 2,
    "benign": 3,
    "uncertain behavior": 4,
    "uncertain": 4,
    "unspecified behavior": 5,
    "unspecified": 5,
    "by site": -1,
}


def norm(text: str) -> str:
    """A title or reference as compared: lower case, without parentheses, single spaces."""
    return _SPACE.sub(" ", _PARENS.sub(" ", text.lower())).strip(" .,;:")


@dataclass(slots=True)
class Target:
    """Where a cross-reference leads: a term path in a book, a table, or a code; `complete` is False
    when only the first part(s) of the reference could be matched."""

    book: str
    path: list[IndexTerm] = field(default_factory=list)
    column: int | None = None  # a table column (0-based among the code columns), for table references
    code: str = ""
    complete: bool = True


class Resolver:
    """Resolves the cross-references of the ICD-10-CM books (or of the ICD-10-PCS index alone)."""

    def __init__(self, books: dict[str, IndexBook]) -> None:
        self.books = books
        self._mains: dict[str, dict[str, list[IndexTerm]]] = {}
        # Keyed by id(term): the resolver holds the books, so the terms outlive these tables.
        self._size: dict[int, int] = {}  # main term -> its number of terms
        self._labels: dict[int, _Children] = {}  # term -> its subterms by name
        for kind, book in books.items():
            by: dict[str, list[IndexTerm]] = {}
            for main in book.main_terms():
                # Every leading run of comma parts names it: "findings, abnormal, inconclusive" is found as
                # "findings" and "findings, abnormal" too.
                parts = norm(main.label).split(", ")
                for k in range(1, len(parts) + 1):
                    by.setdefault(", ".join(parts[:k]), []).append(main)
                self._size[id(main)] = sum(1 for _ in main.walk())
            self._mains[kind] = by

    def resolve(self, kind: str, text: str) -> Target | None:
        """The target of a `see`/`see also` of book `kind`; None for a generic instruction; a Target with
        an empty path and `complete=False` when nothing matched."""
        n = norm(text)
        if not n or n in GENERIC or n.startswith(("also condition", "condition")):
            return None
        m = _CODE_REF.match(text.strip())
        if m:
            return Target(kind, code=m.group(1).rstrip("-").rstrip("."))
        if n.startswith("table of drugs") and CM_DRUG in self.books:
            return Target(CM_DRUG)
        if n.startswith("table of neoplasms") and CM_NEOPLASM in self.books:
            return Target(CM_NEOPLASM)
        parts = [p.strip() for p in n.split(",") if p.strip()]
        while len(parts) > 1 and parts[-1] in ("by site", "by type", "by drug"):
            parts.pop()
        if parts and parts[0] in ("neoplasm", "neoplasm neoplastic") and CM_NEOPLASM in self.books:
            return self._neoplasm(parts[1:])
        found = self._path(kind, parts)
        if (found is None or not found.complete) and kind != CM_INDEX and CM_INDEX in self.books:
            other = self._path(CM_INDEX, parts)  # the external cause index also points into the main index
            if other is not None and (found is None or other.complete):
                found = other
        return found or Target(kind, complete=False)

    def _neoplasm(self, parts: list[str]) -> Target:
        column = None
        while parts and parts[-1] in NEOPLASM_COLUMNS:
            c = NEOPLASM_COLUMNS[parts.pop()]
            column = c if c >= 0 else column
        while parts and parts[0] in NEOPLASM_COLUMNS:
            c = NEOPLASM_COLUMNS[parts.pop(0)]
            column = c if c >= 0 else column
        book = self.books[CM_NEOPLASM]
        top = next(book.main_terms())
        if not parts:
            return Target(CM_NEOPLASM, [top], column)
        path, used = _descend(top, parts, self._labels)
        return Target(CM_NEOPLASM, path, column, complete=used == len(parts))

    def _path(self, kind: str, parts: list[str]) -> Target | None:
        mains = self._mains.get(kind)
        if mains is None or not parts:
            return None
        best: tuple[int, int, list[IndexTerm]] | None = None
        for head, rest in _heads(parts):
            for main in mains.get(head, ()):
                path, used = _descend(main, rest, self._labels)
                score = (used - len(rest), self._size[id(main)])
                if best is None or score > best[:2]:
                    best = (*score, path)
        if best is None:
            return None
        return Target(kind, best[2], complete=best[0] == 0)


def _heads(parts: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Ways to read the first part(s) as a main term: "Infarct, myocardium" is main term "infarct, myocardium"
    or "infarct" + subterm "myocardium"; "Otitis media" may also be "otitis" + subterm "media"."""
    for k in range(len(parts), 0, -1):
        yield ", ".join(parts[:k]), parts[k:]
    words = parts[0].split(" ")
    for k in range(len(words) - 1, 0, -1):
        yield " ".join(words[:k]), [" ".join(words[k:]), *parts[1:]]


def _descend(term: IndexTerm, rest: list[str], cache: dict[int, _Children]) -> tuple[list[IndexTerm], int]:
    """The longest path below `term` matching `rest`, and how many parts it used. A part matches a
    subterm's title, one of its comma-separated variants, or its first words; a two-word part may name a
    subterm and its own subterm in the other order ("upper limb" is "limb, upper")."""
    best: tuple[list[IndexTerm], int] = ([term], 0)
    if not rest or not term.children:
        return best
    kids = cache.get(id(term))
    if kids is None:
        kids = cache[id(term)] = _Children(term)
    for j in range(1, len(rest) + 1):
        for child in kids.named(", ".join(rest[:j]), prefix=j == 1):
            sub, used = _descend(child, rest[j:], cache)
            if used + j > best[1]:
                best = ([term, *sub], used + j)
    first = rest[0].split(" ")
    if len(first) == 2 and best[1] == 0:
        for child in kids.named(first[1], prefix=False):
            sub, used = _descend(child, [first[0], *rest[1:]], cache)
            if used >= 1 and used > best[1]:  # both words were one part
                best = ([term, *sub], used)
    return best


class _Children:
    """The subterms of one term by normalised title and by each comma-separated variant of it."""

    __slots__ = ("by", "labels")

    def __init__(self, term: IndexTerm) -> None:
        self.by: dict[str, list[IndexTerm]] = {}
        self.labels: list[tuple[str, IndexTerm]] = []
        for c in term.children:
            label = norm(c.label)
            self.labels.append((label, c))
            for k in {label, *label.split(", ")}:
                self.by.setdefault(k, []).append(c)

    def named(self, key: str, *, prefix: bool) -> list[IndexTerm]:
        found = self.by.get(key)
        if found or not prefix or len(key) <= 3:
            return found or []
        return [c for label, c in self.labels if label.startswith(key + " ")]


def code_key(printed: str) -> str:
    """The tabular key of an index code: "S72.9-" -> "S72.9", "A30.-" -> "A30"."""
    return printed.rstrip("-").rstrip(".")
