"""ICD-10-PCS Index importer: CMS's `icd10pcs_index_<year>.xml`.

`ICD10PCS.index > letter > mainTerm > term level=N …`, each with a `title` (a subterm may have none
and only say "see …") and any of `use` (a value name to use), `see` (another term, often with the
`codes` or `tab` it leads to inside), `code` (7 characters), `codes` (the first 4+ characters) and
`tab` (a table: 3 characters).
"""

from __future__ import annotations

import re
from pathlib import Path

from ..books import PCS_INDEX, IndexBook, IndexTerm, Letter
from ..errors import BuildError
from .icd10pcs_tables import release
from .xmltree import Node, check_level, clean, document

HINT = "pass the CMS ICD-10-PCS Index XML (icd10pcs_index_<year>.xml)"
CODE = re.compile(r"[0-9A-HJ-NP-Z]{3,7}")
_MAX_LEVEL = 9


def _code(path: Path, node: Node) -> str:
    value = clean(node.text).replace(" ", "")
    if not CODE.fullmatch(value):
        raise BuildError(
            f"{path}:{node.line}: <{node.tag}> holds '{value}', which is not an ICD-10-PCS code or table"
        )
    return value


class PcsIndexReader:
    def read(self, path: Path) -> IndexBook:
        root = document(path, "ICD10PCS.index", "ICD-10-PCS Index XML file", HINT)
        version = title = ""
        letters: list[Letter] = []
        for node in root:
            if node.tag == "version":
                version = clean(node.text)
            elif node.tag == "title":
                title = node.all_text()
            elif node.tag == "letter":
                letter = Letter(clean((node.find("title") or Node("", {}, 0)).text), node.line)
                for mt in node:
                    if mt.tag == "mainTerm":
                        letter.terms.append(self._term(path, mt, 0))
                    elif mt.tag != "title":
                        raise BuildError(
                            f"{path}:{mt.line}: unexpected element <{mt.tag}> in <letter>; "
                            "expected <mainTerm>"
                        )
                if not letter.title:
                    raise BuildError(f"{path}:{node.line}: <letter> without a <title>")
                letters.append(letter)
            else:
                raise BuildError(f"{path}:{node.line}: unexpected element <{node.tag}>; expected <letter>")
        if not any(letter.terms for letter in letters):
            raise BuildError(f"{path}:{root.line}: no <mainTerm> found; {HINT}")
        return IndexBook(
            PCS_INDEX,
            title or "ICD-10-PCS Index",
            version,
            release(version, path, "Index"),
            str(path),
            letters=letters,
        )

    def _term(self, path: Path, node: Node, level: int) -> IndexTerm:
        check_level(path, node, level, _MAX_LEVEL)
        term = IndexTerm("", level, node.line)
        codes: list[str] = []
        for c in node:
            if c.tag == "title":
                term.title = c.all_text()
            elif c.tag in ("code", "codes", "tab"):
                codes.append(_code(path, c))
            elif c.tag in ("see", "use"):
                inner = [_code(path, x) for x in c if x.tag in ("codes", "code", "tab")]
                odd = next((x for x in c if x.tag not in ("codes", "code", "tab")), None)
                if odd is not None:
                    raise BuildError(f"{path}:{odd.line}: unexpected element <{odd.tag}> in <{c.tag}>")
                setattr(term, c.tag, clean(c.text))
                term.see_codes += tuple(inner)
            elif c.tag == "term":
                term.children.append(self._term(path, c, level + 1))
            else:
                raise BuildError(
                    f"{path}:{c.line}: unexpected element <{c.tag}>; expected <title>, <use>, <see>, <code>, "
                    "<codes>, <tab> or <term>"
                )
        term.codes = tuple(codes)
        if not (term.title or term.see or term.use or term.codes):
            raise BuildError(f"{path}:{node.line}: a term needs a <title>, a <see>, a <use> or a code")
        if level == 0 and not term.title:
            raise BuildError(f"{path}:{node.line}: a main term without a <title>")
        return term
