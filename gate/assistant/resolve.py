"""Which code each mention is: looked up in the facts, narrowed by code-set words, the page and the intent."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.model import CPT, HCPCS, ICD10CM, ICD10PCS

from .facts import CodeFact, Facts
from .understand import ICD9, ICD9_PROC, Mention, Question

PROCEDURE_SETS = (CPT, HCPCS)
DIAGNOSIS_SETS = (ICD10CM, ICD10PCS)
_PROCEDURE_INTENTS = ("pair", "mue", "payment", "addon")


@dataclass
class Resolved:
    codes: list[CodeFact] = field(default_factory=list)
    unknown: list[Mention] = field(default_factory=list)
    ambiguous: list[tuple[Mention, list[CodeFact]]] = field(default_factory=list)
    icd9: list[Mention] = field(default_factory=list)
    context: CodeFact | None = None

    def procedures(self) -> list[CodeFact]:
        return [c for c in self.codes if c.codeset in PROCEDURE_SETS]


def resolve(facts: Facts, q: Question) -> Resolved:
    r = Resolved()
    if q.context is not None and q.context[0] in facts.codesets:
        r.context = facts.code(*q.context) or next(iter(facts.lookup(q.context[1])), None)
    seen: set[tuple[str, str]] = set()
    for m in q.mentions:
        if (ICD9 in m.shapes or ICD9_PROC in m.shapes) and (len(m.shapes) == 1 or not facts.lookup(m.token)):
            r.icd9.append(m)
            continue
        found = [c for c in facts.lookup(m.token) if c.codeset in m.shapes]
        if m.token.count(".") and found:  # written with its dot: ICD-10-CM as printed
            found = [c for c in found if c.codeset == ICD10CM] or found
        if len(found) > 1 and q.codesets:
            found = [c for c in found if c.codeset in q.codesets] or found
        if len(found) > 1 and r.context is not None:
            same = [c for c in found if c.codeset == r.context.codeset]
            found = same or found
        if len(found) > 1 and any(q.wants(i) for i in _PROCEDURE_INTENTS):
            found = [c for c in found if c.codeset in PROCEDURE_SETS] or found
        if len(found) > 1 and q.wants("crosswalk"):
            found = [c for c in found if c.codeset in DIAGNOSIS_SETS] or found
        if not found:
            r.unknown.append(m)
        elif len(found) > 1:
            r.ambiguous.append((m, found))
        elif (found[0].codeset, found[0].key) not in seen:
            seen.add((found[0].codeset, found[0].key))
            r.codes.append(found[0])
    return r
