"""ICD-10-CM Index and Tables importer: CDC's XML files of the yearly "table and index" zip.

One layout serves four files (`icd10cm-index-<year>.xsd`, `icd-10-cm-drug-neoplasm-<year>.xsd`):
`ICD10CM.index > letter > mainTerm > term level=N …`, each term with a `title` (text with one `nemod`,
the nonessential modifiers) and any of `see`, `seeAlso`, `code`, `seecat`, `subcat`, `manif`,
`warning`, `cell col=N` (the tables) and subterms. Addenda mark changes with `diff` (`unc`, `old`,
`new`) and, in the tables, `new`/`old` inside any text: the current text is everything but `old`.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..books import BOOK_NAMES, CM_DRUG, CM_EINDEX, CM_INDEX, CM_NEOPLASM, IndexBook, IndexTerm, Letter
from ..errors import BuildError
from .icd10cm import release_line
from .xmltree import Node, check_level, clean, document

CODE = re.compile(r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?-?")
NO_CODE = frozenset({"", "-", "--", "\u2014", "\u2013"})  # table cells without a code
# Per kind: the first column head (tables) or a word of the document title (indexes) that names it.
_TABLE_HEAD = {CM_NEOPLASM: "neoplasm", CM_DRUG: "substance"}
_TITLE_WORD = {CM_INDEX: "diseases", CM_EINDEX: "external"}
_TERM_CHILDREN = frozenset(
    {"title", "diff", "see", "seeAlso", "code", "seecat", "subcat", "manif", "warning", "cell", "term"}
)
_SINGLE = ("see", "seeAlso", "code", "seecat", "subcat", "manif", "warning")
_ONCE = frozenset((*_SINGLE, "title", "diff"))  # a term holds at most one of each
_MAX_LEVEL = 9  # the schema's limit


def text_of(node: Node) -> str:
    """The current text of an element: addenda's `old` parts left out, `nemod` kept."""
    if not node.children:  # most elements: one run of text
        return clean(node.text)
    parts = [node.text]
    for c in node.children:
        if c.tag != "old":
            parts.append(text_of(c))
        parts.append(c.tail)
    return clean("".join(parts))


def _title_parts(node: Node) -> tuple[str, str, str]:
    """(essential words, nonessential modifiers, text after them) of a `title` or an addenda `diff`
    (whose `unc` and `new` parts hold the current title, modifiers included)."""
    if not node.children:
        return clean(node.text), "", ""
    before: list[str] = []
    nemod: list[str] = []
    after: list[str] = []
    _walk_title(node, before, nemod, after)
    return clean("".join(before)), clean(" ".join(nemod)), clean("".join(after))


def _walk_title(n: Node, before: list[str], nemod: list[str], after: list[str]) -> None:
    """`_title_parts`' walk. A function of its own, not a closure: a nested function that calls
    itself is a reference cycle, which the build (running with the cyclic GC off) never frees."""
    (after if nemod else before).append(n.text)
    for c in n.children:
        if c.tag == "nemod":
            nemod.append(text_of(c))
        elif c.tag != "old":
            _walk_title(c, before, nemod, after)
        (after if nemod else before).append(c.tail)


class IndexReader:
    """Reads one of the four files; `kind` says which, and a file of another kind is refused."""

    def __init__(self, kind: str) -> None:
        if kind not in _TABLE_HEAD and kind not in _TITLE_WORD:
            raise ValueError(kind)
        self.kind = kind
        self.table = kind in _TABLE_HEAD
        self.hint = f"pass the CDC {BOOK_NAMES[kind]} XML (from icd10cm-table-index-<date>.zip)"

    def read(self, path: Path) -> IndexBook:
        root = document(path, "ICD10CM.index", f"ICD-10-CM {BOOK_NAMES[self.kind]} XML file", self.hint)
        version = title = ""
        heads: dict[int, str] = {}
        for child in root:
            if child.tag == "version":
                version = text_of(child)
            elif child.tag == "title":
                title = text_of(child)
            elif child.tag == "indexHeading":
                heads = self._heads(path, child)
            elif child.tag != "letter":
                raise self._unknown(path, child, "<version>, <title>, <indexHeading> or <letter>")
        self._check_kind(path, root, title, heads)
        letters = [self._letter(path, child, len(heads)) for child in root.findall("letter")]
        if not any(letter.terms for letter in letters):
            raise BuildError(f"{path}:{root.line}: no <mainTerm> found; {self.hint}")
        return IndexBook(
            kind=self.kind,
            title=title or BOOK_NAMES[self.kind],
            version=version,
            release=release_line(version, path).replace("ICD-10-CM", f"ICD-10-CM {BOOK_NAMES[self.kind]}", 1),
            path=str(path),
            heads=tuple(heads[c] for c in sorted(heads)),
            letters=letters,
        )

    # --- structure -----------------------------------------------------------------------------

    def _heads(self, path: Path, node: Node) -> dict[int, str]:
        heads: dict[int, str] = {}
        for h in node:
            if h.tag != "head":
                raise self._unknown(path, h, "<head col=N>")
            col = self._col(path, h)
            if col in heads:
                raise BuildError(f"{path}:{h.line}: column {col} has two heads")
            heads[col] = text_of(h)
        if sorted(heads) != list(range(1, len(heads) + 1)):
            raise BuildError(f"{path}:{node.line}: the column heads must be numbered 1, 2, 3 … without gaps")
        return heads

    def _check_kind(self, path: Path, root: Node, title: str, heads: dict[int, str]) -> None:
        first = heads.get(1, "").lower()
        found = next((k for k, h in _TABLE_HEAD.items() if first.startswith(h)), None)
        if found is None and heads:
            raise BuildError(
                f"{path}:{root.line}: the first column head is '{heads.get(1, '')}', not a "
                "Neoplasm or Drug table"
            )
        if found is None:
            found = next((k for k, w in _TITLE_WORD.items() if w in title.lower()), None)
        if found is not None and found != self.kind:
            raise BuildError(
                f"{path}:{root.line}: this is the {BOOK_NAMES[found]}, not the {BOOK_NAMES[self.kind]}; "
                f"import it as `{found}`"
            )
        if self.table and not heads:
            raise BuildError(
                f"{path}:{root.line}: the {BOOK_NAMES[self.kind]} needs its <indexHeading> column heads"
            )

    def _letter(self, path: Path, node: Node, columns: int) -> Letter:
        letter = Letter("", node.line)
        for child in node:
            if child.tag in ("title", "diff"):
                letter.title = " ".join(p for p in _title_parts(child) if p)
            elif child.tag == "mainTerm":
                letter.terms.append(self._term(path, child, 0, columns))
            else:
                raise self._unknown(path, child, "<title> or <mainTerm>")
        if not letter.title:
            raise BuildError(f"{path}:{node.line}: <letter> without a <title>")
        return letter

    def _term(self, path: Path, node: Node, level: int, columns: int) -> IndexTerm:
        check_level(path, node, level, _MAX_LEVEL)
        term = IndexTerm("", level, node.line)
        seen: set[str] = set()
        cells: dict[int, str] = {}
        for child in node:
            tag = child.tag
            if tag not in _TERM_CHILDREN:
                raise self._unknown(path, child, ", ".join(f"<{t}>" for t in sorted(_TERM_CHILDREN)))
            if tag in seen and tag in _ONCE:
                raise BuildError(f"{path}:{child.line}: a second <{tag}> in one term")
            seen.add(tag)
            if tag in ("title", "diff"):
                term.title, term.nemod, term.tail = _title_parts(child)
            elif tag == "term":
                term.children.append(self._term(path, child, level + 1, columns))
            elif tag == "cell":
                col = self._col(path, child)
                if not self.table or col < 2 or col > columns:
                    raise BuildError(
                        f'{path}:{child.line}: <cell col="{col}"> outside the table\'s columns 2-{columns}'
                    )
                if col in cells:
                    raise BuildError(f"{path}:{child.line}: column {col} given twice for one term")
                cells[col] = self._code(path, child, allow_empty=True)
            elif tag == "code":
                term.codes = (self._code(path, child),)
            elif tag in ("subcat", "seecat"):
                setattr(term, tag, self._code(path, child))
            elif tag == "manif":
                # A code in the indexes ([G63]); a few words in the Neoplasm Table.
                term.manif = text_of(child)
            elif tag == "see":
                term.see = text_of(child)
            elif tag == "seeAlso":
                term.see_also = text_of(child)
            elif tag == "warning":
                term.warning = text_of(child)
        if not (term.title or term.nemod):  # "(somatoform)": a subterm of modifiers alone is printed
            raise BuildError(f"{path}:{node.line}: a {'subterm' if level else 'main term'} without a <title>")
        if cells:
            term.cells = tuple(cells.get(c, "") for c in range(2, columns + 1))
        return term

    def _code(self, path: Path, node: Node, *, allow_empty: bool = False) -> str:
        value = text_of(node).replace(" ", "")
        if allow_empty and value in NO_CODE:
            return ""
        if not CODE.fullmatch(value):
            raise BuildError(
                f"{path}:{node.line}: <{node.tag}> holds '{value}', which is not an ICD-10-CM code"
            )
        return value

    @staticmethod
    def _col(path: Path, node: Node) -> int:
        raw = node.attrs.get("col", "")
        if not raw.isdigit() or not 1 <= int(raw) <= 9:
            raise BuildError(f'{path}:{node.line}: <{node.tag}> needs col="1" … col="9", got \'{raw}\'')
        return int(raw)

    @staticmethod
    def _unknown(path: Path, node: Node, expected: str) -> BuildError:
        return BuildError(f"{path}:{node.line}: unexpected element <{node.tag}>; expected {expected}")
