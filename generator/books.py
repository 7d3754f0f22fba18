"""The reference books beside the code lists: alphabetic indexes, their tables, PCS tables and definitions.

Importers in `generator/importers/` read the official files into these types; the rest of the build
(cross-references, index pages, PCS pages, search) never knows which file a term came from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .field_pickle import by_fields

# Import kinds of the books (CLI names: `coderef import <kind> PATH`).
CM_INDEX = "icd10cm-index"
CM_EINDEX = "icd10cm-eindex"
CM_NEOPLASM = "icd10cm-neoplasm"
CM_DRUG = "icd10cm-drug"
PCS_TABLES = "icd10pcs-tables"
PCS_DEFINITIONS = "icd10pcs-definitions"
PCS_INDEX = "icd10pcs-index"

CM_BOOKS = (CM_INDEX, CM_EINDEX, CM_NEOPLASM, CM_DRUG)
PCS_BOOKS = (PCS_TABLES, PCS_DEFINITIONS, PCS_INDEX)
ALL_BOOKS = CM_BOOKS + PCS_BOOKS

# What each book is called on pages, and its URL slug below its code set.
BOOK_NAMES: dict[str, str] = {
    CM_INDEX: "Index to Diseases and Injuries",
    CM_EINDEX: "External Cause of Injuries Index",
    CM_NEOPLASM: "Neoplasm Table",
    CM_DRUG: "Table of Drugs and Chemicals",
    PCS_TABLES: "ICD-10-PCS Tables",
    PCS_DEFINITIONS: "ICD-10-PCS Definitions",
    PCS_INDEX: "ICD-10-PCS Index",
}


@by_fields
@dataclass(slots=True, eq=False)
class IndexTerm:
    """A main term (level 0) or subterm of an alphabetic index or index table, as printed.

    `title` holds the essential words; `nemod` the nonessential modifiers in parentheses, printed
    after `title` and before `tail` (text after the modifiers, such as "NEC"). Codes are kept as
    printed: a trailing "-" marks an incomplete code ("see the Tabular List for the full code").
    """

    title: str
    level: int
    line: int
    nemod: str = ""
    tail: str = ""
    see: str = ""
    see_also: str = ""
    use: str = ""  # ICD-10-PCS: "use <value name>"
    codes: tuple[str, ...] = ()  # CM: <code>; PCS: <code>, <codes> or <tab> (7, 4+ or 3 characters)
    see_codes: tuple[str, ...] = ()  # ICD-10-PCS: the codes or table printed inside a see/use
    manif: str = ""  # manifestation code, printed in brackets after the code
    subcat: str = ""  # "see subcategory" code
    seecat: str = ""  # "see category" code
    warning: str = ""
    cells: tuple[str, ...] = ()  # table rows: the cell of column 2, 3, … ("" when absent)
    children: list[IndexTerm] = field(default_factory=list)

    @property
    def label(self) -> str:
        """Essential words with what follows the modifiers: "Abandonment NEC"."""
        return f"{self.title} {self.tail}".strip() if self.tail else self.title

    @property
    def printed(self) -> str:
        """The term as printed: "Abandonment (causing exposure …) NEC"."""
        return " ".join(p for p in (self.title, self.nemod, self.tail) if p)

    def walk(self) -> Iterator[tuple[list[IndexTerm], IndexTerm]]:
        """(ancestors, term) for this term and every subterm, in printed order."""
        stack: list[tuple[list[IndexTerm], IndexTerm]] = [([], self)]
        while stack:
            path, term = stack.pop()
            yield path, term
            below = [*path, term]
            stack.extend((below, c) for c in reversed(term.children))


@by_fields
@dataclass(slots=True)
class Letter:
    title: str
    line: int
    terms: list[IndexTerm] = field(default_factory=list)


@dataclass(slots=True)
class IndexBook:
    """One alphabetic index (or index table) of ICD-10-CM or ICD-10-PCS."""

    kind: str
    title: str
    version: str  # "2025"
    release: str  # "ICD-10-CM FY2025 (April 1, 2025 update), CDC"
    path: str  # the file, for messages
    heads: tuple[str, ...] = ()  # tables: column heads, column 1 first
    letters: list[Letter] = field(default_factory=list)

    def main_terms(self) -> Iterator[IndexTerm]:
        for letter in self.letters:
            yield from letter.terms


# ---------------------------------------------------------------------------------------------
# ICD-10-PCS tables and definitions


@by_fields
@dataclass(frozen=True, slots=True)
class PcsValue:
    code: str  # one character
    label: str


@by_fields
@dataclass(slots=True)
class PcsRow:
    """One row of a PCS table: the values of characters 4-7 that combine with each other."""

    line: int
    axes: dict[int, list[PcsValue]]  # position 4..7 -> values
    titles: dict[int, str]  # position -> axis title ("Body Part", "Approach", ...)

    def codes(self, prefix: str) -> Iterator[str]:
        """Every code of the row, in table order."""
        for a in self.axes.get(4, []):
            for b in self.axes.get(5, []):
                for c in self.axes.get(6, []):
                    for d in self.axes.get(7, []):
                        yield prefix + a.code + b.code + c.code + d.code


@by_fields
@dataclass(slots=True)
class PcsTable:
    """One ICD-10-PCS table ("0DT"): characters 1-3 with their names, and its rows."""

    line: int
    head: dict[int, PcsValue]  # positions 1..3
    titles: dict[int, str]  # axis titles of positions 1..3 ("Section", "Body System", "Operation")
    definition: str  # the root operation's (position 3) definition, as printed in the table
    rows: list[PcsRow] = field(default_factory=list)

    @property
    def key(self) -> str:
        return "".join(self.head[p].code for p in (1, 2, 3))


@dataclass(slots=True)
class PcsTables:
    version: str
    release: str
    path: str
    tables: list[PcsTable] = field(default_factory=list)


@by_fields
@dataclass(frozen=True, slots=True)
class PcsTerm:
    """A defined value of one character position in one section: a root operation, approach, body part,
    device… with its definition, explanation and what it includes."""

    section: str
    pos: int
    title: str
    definition: str
    explanation: str
    includes: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class DeviceAggregate:
    """A specific device value that, for some operations and body systems, is coded as a general one."""

    device: str
    operation: str
    body_systems: tuple[str, ...]
    parent: str
    parent_value: str


@dataclass(slots=True)
class PcsDefinitions:
    version: str
    release: str
    path: str
    sections: dict[str, str] = field(default_factory=dict)  # section code -> name
    axis_titles: dict[tuple[str, int], str] = field(default_factory=dict)  # (section, pos) -> title
    terms: list[PcsTerm] = field(default_factory=list)
    aggregates: list[DeviceAggregate] = field(default_factory=list)

    def lookup(self) -> dict[tuple[str, int, str], PcsTerm]:
        """(section, position, lower-case title) -> term."""
        return {(t.section, t.pos, t.title.lower()): t for t in self.terms}


Book = IndexBook | PcsTables | PcsDefinitions
