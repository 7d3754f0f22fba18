"""From a parsed question to the deterministic answer: which capability answers, with which codes."""

from __future__ import annotations

import re

from generator.casepilot_pages import example_questions
from generator.model import ICD10CM, ICD10PCS

from . import (
    answers_codes,
    answers_history,
    answers_ncci,
    answers_notes,
    answers_payment,
    answers_reference,
    answers_summary,
)
from .doc import Doc
from .facts import CodeFact, Facts
from .resolve import resolve
from .understand import Mention, Question

_NOTE_WORDS = re.compile(
    r"excludes|code first|use additional|code also|7th|seventh|\bnotes?\b|inclusion|"
    r"\bincludes\b|billable|\bvalid\b|\bheader\b|this code|\bit\b"
)
_TO_ICD9 = re.compile(r"icd[- ]?9|\bgems?\b|crosswalk|\bmaps?\b|\bmapping\b|\bconvert|\bequivalen|\bold code")


def respond(facts: Facts, q: Question) -> tuple[str, Doc]:
    """(topic, answer) for a question; topic names the capability that answered it."""
    r = resolve(facts, q)
    codes = list(r.codes)
    if (
        not codes
        and r.context is not None
        and not r.icd9
        and not r.unknown
        and not r.ambiguous
        and (not (q.modifiers or q.lcd_ids) or q.wants("pair"))
    ):
        codes = [r.context]
    procs = [c for c in codes if c.codeset in ("cpt", "hcpcs")]
    if (
        len(procs) == 1
        and r.context is not None
        and r.context.codeset in ("cpt", "hcpcs")
        and r.context.key != procs[0].key
        and q.wants("pair")
        and not q.wants("payment")
    ):
        procs = [r.context, procs[0]]
    history = _history(facts, q, r.codes or codes, r.unknown)
    if history is not None:
        return "history", history
    if r.ambiguous and not codes:
        mention, candidates = r.ambiguous[0]
        return "ambiguous", answers_codes.ambiguous(facts, mention, candidates)
    if q.lcd_ids or (q.wants("coverage") and not q.wants("payment")):
        return "coverage", answers_reference.coverage(facts, q, codes)
    if r.icd9 and (q.wants("crosswalk") or not codes):
        doc = Doc()
        for m in r.icd9[:3]:
            doc.extend(answers_reference.from_icd9(facts, m))
        return "crosswalk", doc
    icd10 = [c for c in codes if c.codeset in (ICD10CM, ICD10PCS)]
    if icd10 and _TO_ICD9.search(q.low):
        doc = Doc()
        for c in icd10[:3]:
            doc.extend(answers_reference.to_icd9(facts, c))
        return "crosswalk", doc
    if q.modifiers and len(procs) < 2 and not q.wants("payment"):
        return "modifier", answers_reference.modifiers(facts, q)
    if len(procs) >= 2 and (not q.wants("payment") or q.wants("pair") or q.modifiers):
        doc = Doc()
        pairs = [(a, b) for i, a in enumerate(procs[:4]) for b in procs[i + 1 : 4]]
        for a, b in pairs:
            doc.extend(answers_ncci.pair(facts, a, b, q))
        return "ncci", doc
    dx = [c for c in codes if c.codeset == ICD10CM]
    if len(dx) >= 2 and (q.wants("pair") or re.search(r"\bcoded? (?:with|together)|\bexclud", q.low)):
        return "excludes", answers_notes.dx_pair(facts, dx[0], dx[1])
    if procs and q.wants("addon"):
        return "addon", _each(procs, lambda c: answers_ncci.addon(facts, c, q))
    if procs and q.wants("payment"):
        return "payment", _each(procs, lambda c: answers_payment.payment(facts, c, q))
    if procs and q.wants("mue"):
        return "mue", _each(procs, lambda c: answers_ncci.mue(facts, c, q))
    if not codes and r.unknown and not q.wants("find"):
        return "unknown_code", answers_codes.unknown(facts, r.unknown)
    if not codes and q.wants("find") and not q.wants("guideline"):
        found = answers_codes.find_codes(facts, q)
        if found is not None:
            return "find", found
    about_context = not r.codes and bool(codes) and _NOTE_WORDS.search(q.low) is not None
    if not codes or (q.wants("guideline") > q.wants("facts") and not r.codes and not about_context):
        guide = answers_reference.guidelines(facts, q)
        if guide is not None:
            return "guideline", guide
        found = answers_codes.find_codes(facts, q, strict=not q.wants("find")) if not codes else None
        if found is not None:
            return "find", found
    if codes:
        return "code", _each(codes[:3], lambda c: _code(facts, c, q))
    if r.ambiguous:
        mention, candidates = r.ambiguous[0]
        return "ambiguous", answers_codes.ambiguous(facts, mention, candidates)
    return "unknown", dont_know(q)


_OTHER_ASKS = ("mue", "payment", "addon", "modifier", "coverage")


def _history(facts: Facts, q: Question, codes: list[CodeFact], unknown: list[Mention]) -> Doc | None:
    """Release questions: a date of service, a code's history, a deleted code, what a release changed.

    Another capability's words win when codes are named ("what did 99213 pay on 2024-03-08" is about
    payment); without codes, a named date is about the releases ("MUE quarter in effect on 2024-09-30")."""
    procs = [c for c in codes if c.codeset in ("cpt", "hcpcs")]
    other = bool(
        q.modifiers or q.lcd_ids or _TO_ICD9.search(q.low) or any(q.wants(i) for i in _OTHER_ASKS)
        or (q.wants("pair") and len(procs) >= 2)
    )
    if (q.dates or q.bad_dates) and not q.modifiers and not q.lcd_ids:
        if not codes and not unknown and (q.wants("release") or not other):
            return answers_history.date_of_service(facts, q)
        if codes and (q.wants("release") or q.wants("history")) and not other:
            if not q.dates:  # written like a date, but none: says so
                return answers_history.date_of_service(facts, q)
            day = q.dates[0]
            return _each(codes[:3], lambda c: answers_history.valid_on(facts, c, day))
    if not codes and unknown:
        gone = answers_history.deleted(facts, unknown, q)
        if gone is not None:
            return gone
    if not q.wants("history") or other:
        return None
    if codes:
        return _each(codes[:3], lambda c: answers_history.code_history(facts, c, q))
    if unknown:
        return None
    return answers_history.release_changes(facts, q)


def _code(facts: Facts, code: CodeFact, q: Question) -> Doc:
    doc = answers_codes.code_facts(facts, code, q)
    if code.codeset in ("cpt", "hcpcs") and code.is_code:
        doc.extend(answers_summary.cms_summary(facts, code))
    return doc


def _each(codes: list[CodeFact], make: object) -> Doc:
    assert callable(make)
    doc = Doc()
    for c in codes:
        part = make(c)
        assert isinstance(part, Doc)
        doc.extend(part)
        if part.kind != "answer":
            doc.kind = part.kind
    return doc


def dont_know(q: Question) -> Doc:
    doc = Doc(kind="unknown")
    doc.p(
        "I don't know: I found nothing in this site's data that answers that. I answer from the official "
        "code sets, "
        "the CMS NCCI, MUE, fee schedule, GEM and coverage files, and our coding guides."
    )
    doc.p("Questions I can answer look like these:")
    doc.ul([[e] for e in example_questions()[::2]])
    return doc
