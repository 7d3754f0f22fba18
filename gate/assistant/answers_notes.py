"""Two ICD-10-CM codes together: what their Excludes1 and Excludes2 notes say of each other."""

from __future__ import annotations

import re

from .answers_codes import release_of
from .doc import Doc, Line
from .facts import CodeFact, Facts

_REF = re.compile(r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{0,4})?)-?")
KINDS = {"excludes1": "Excludes1", "excludes2": "Excludes2"}


def _names(line: str, code: CodeFact) -> bool:
    """Whether a note line refers to `code`: its own code, or a category or subcategory above it
    ('E11.-', 'O24.4-')."""
    if line.startswith("From "):  # the heading of notes inherited from an ancestor, not a note
        return False
    for ref in _REF.findall(line):
        stem = ref.rstrip(".")
        if code.key == stem or code.key.startswith(stem + ".") or (code.key.startswith(stem) and "." in stem):
            return True
    return False


def dx_pair(facts: Facts, a: CodeFact, b: CodeFact) -> Doc:
    doc = Doc()
    la = doc.cite_code(a.codeset, a.key, a.title, release_of(facts, a))
    lb = doc.cite_code(b.codeset, b.key, b.title, release_of(facts, b))
    found: list[tuple[str, CodeFact, CodeFact, str]] = []
    for here, other in ((a, b), (b, a)):
        for kind, text in here.notes:
            if kind in KINDS:
                found += [
                    (kind, here, other, line.strip()) for line in text.split("\n") if _names(line, other)
                ]
    if not found:
        doc.p(
            "Neither ",
            la,
            " nor ",
            lb,
            " has an Excludes1 or Excludes2 note that names the other: the "
            "Tabular List does not forbid reporting them together. Code both when the record supports both, "
            "following the other notes (code first, use additional code).",
        )
        return doc
    lines: list[Line] = [[f"{KINDS[kind]} note of {here.key}: {line}"] for kind, here, _, line in found]
    if any(kind == "excludes1" for kind, _, _, _ in found):
        doc.p(
            "No, as a rule: an Excludes1 note separates ",
            la,
            " and ",
            lb,
            ". The two are not coded together (unless the conditions are unrelated to each other).",
        )
    else:
        doc.p(
            "Yes, when the patient has both: an Excludes2 note links ",
            la,
            " and ",
            lb,
            ". The condition is not part of the other code, so both may be reported.",
        )
    doc.ul(lines)
    return doc
