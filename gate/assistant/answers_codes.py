"""Answers about codes themselves: what a code is, unknown and ambiguous codes, codes found from words."""

from __future__ import annotations

import re

from generator.model import CODESET_NAMES, CPT, HCPCS, ICD10CM, ICD10PCS

from .doc import Doc, Line
from .facts import CodeFact, Facts
from .finders import DEFAULT_FINDER, CodeFinder
from .understand import ICD9, Mention, Question

NOTE_TITLES = {
    "excludes1": "Excludes1 (never coded together with this code)",
    "excludes2": "Excludes2 (not part of this condition; both may be coded)",
    "code-first": "Code first",
    "use-additional-code": "Use additional code",
    "code-also": "Code also",
    "seventh-character": "7th character",
    "inclusion-terms": "Inclusion terms",
    "includes": "Includes",
    "notes": "Notes",
    "history": "Release history",
}
NOTE_ORDER = (
    "inclusion-terms",
    "includes",
    "notes",
    "seventh-character",
    "code-first",
    "use-additional-code",
    "code-also",
    "excludes1",
    "excludes2",
    "history",
)
# A question about the releases ("is it new?", "when was it added?", "what changed?") wants the history.
HISTORY_WORDS = re.compile(r"\b(?:new|added|history|revis\w*|chang\w*|deleted|introduced|releases?)\b")
CPT_NO_DESCRIPTOR = (
    "The official CPT® descriptor is copyrighted by the AMA and is shown only where the site "
    "operator has imported a licensed CPT file; this site has not, so here is what the CMS data says."
)


def release_of(facts: Facts, code: CodeFact) -> str:
    return code.source or facts.releases.get(code.codeset, "")


def label(code: CodeFact) -> str:
    return f"{CODESET_NAMES.get(code.codeset, code.codeset)} {code.key}"


def _lines(text: str, limit: int) -> list[str]:
    lines = [x.strip() for x in text.split("\n") if x.strip()]
    return lines[:limit] + (["… and more on the page"] if len(lines) > limit else [])


def _status(code: CodeFact) -> str:
    if code.billable is True:
        return "Billable: valid on claims."
    if code.billable is False:
        if code.codeset == ICD10CM and any(k == "seventh-character" for k, _ in code.notes):
            return "Not billable as it stands: it needs a 7th character (see below) or a more specific code."
        return "Not billable: it is a header; report one of its more specific codes."
    return ""


def code_facts(facts: Facts, code: CodeFact, q: Question) -> Doc:
    doc = Doc()
    rel = release_of(facts, code)
    link = doc.cite_code(code.codeset, code.key, code.title, rel)
    if code.codeset == CPT and not code.title:
        doc.p("CPT® code ", link, ": ", CPT_NO_DESCRIPTOR)
    else:
        doc.p(
            f"{CODESET_NAMES.get(code.codeset, code.codeset)} ", link, f" — {code.title or code.short_title}."
        )
    status = _status(code)
    if status:
        doc.p(status)
    facts_lines: list[Line] = [[f"{k}: {v}"] for k, v in code.facts if k != "Status"]
    facts_lines = facts_lines[:8]
    doc.ul(facts_lines)
    if code.billable is False and code.codeset in (ICD10CM, ICD10PCS, HCPCS):
        kids = facts.children(code.codeset, code.key, 12)
        if kids:
            items: list[Line] = []
            for key, title, _ in kids:
                items.append([doc.cite_code(code.codeset, key, title, rel), f" {title}"])
            doc.p("More specific codes:").ul(items)
    wanted = [
        k
        for k in NOTE_ORDER
        if re.search(k.replace("-", "[ -]?").replace("seventh", "(?:seventh|7th)"), q.low)
        or (k == "history" and HISTORY_WORDS.search(q.low))
    ]
    if len(wanted) > 1 and "notes" in wanted:
        wanted.remove("notes")
    notes = dict(code.notes)
    shown = wanted or [
        k for k in ("seventh-character", "code-first", "use-additional-code", "excludes1") if k in notes
    ]
    for kind in shown:
        if kind in notes:
            doc.p(f"{NOTE_TITLES[kind]}:").ul([[x] for x in _lines(notes[kind], 6)])
        elif kind == "history":
            doc.p(f"This site holds one release of {CODESET_NAMES.get(code.codeset, code.codeset)}: "
                  f"no earlier release of {label(code)} to compare with.")
        elif wanted:
            doc.p(f"{label(code)} has no {NOTE_TITLES[kind].split(' (')[0]} note.")
    doc.p(f"Release: {rel}." if rel else "")
    doc.blocks = [b for b in doc.blocks if b[1] != [[""]]]
    return doc


def unknown(facts: Facts, mentions: list[Mention]) -> Doc:
    doc = Doc(kind="no_code")
    for m in mentions:
        sets = [cs for cs in m.shapes if cs != ICD9]
        where = " or ".join(f"{CODESET_NAMES.get(cs, cs)} {_release_tag(facts, cs)}".strip() for cs in sets)
        doc.p(f"There is no such code {m.token} in {where or 'the code sets of this site'}.")
    doc.p("Check the code for a typing error, or search by words (for example 'code for a broken wrist').")
    return doc


def _release_tag(facts: Facts, codeset: str) -> str:
    if codeset == CPT:
        return ""  # CPT code numbers come from several CMS files, not one release
    rel = facts.releases.get(codeset, "")
    m = re.search(r"FY\s?\d{4}|\b20\d\d\b", rel)
    return m[0].replace(" ", "") if m else ""


def ambiguous(facts: Facts, m: Mention, found: list[CodeFact]) -> Doc:
    doc = Doc(kind="ambiguous")
    doc.p(f"{m.token} is a code in more than one code set. Which one do you mean?")
    doc.ul(
        [
            [
                f"{CODESET_NAMES.get(c.codeset, c.codeset)} ",
                doc.cite_code(c.codeset, c.key, c.title, release_of(facts, c)),
                f" — {c.title or 'CPT® code number (descriptor not licensed here)'}",
            ]
            for c in found
        ]
    )
    doc.p(
        f"Ask again naming the code set, e.g. '{CODESET_NAMES.get(found[0].codeset, found[0].codeset)} "
         f"{m.token}'."
    )
    return doc


SYNONYMS = {
    "broken": "fracture",
    "break": "fracture",
    "fractured": "fracture",
    "busted": "fracture",
    "heart attack": "myocardial infarction",
    "high blood pressure": "hypertension",
    "hbp": "hypertension",
    "stroke": "cerebral infarction",
    "sugar": "diabetes",
    "diabetic": "diabetes",
    "flu": "influenza",
    "kidney stone": "calculus of kidney",
    "kidney stones": "calculus of kidney",
    "pink eye": "conjunctivitis",
    "belly": "abdominal",
    "tummy": "abdominal",
    "shot": "injection",
    "sprained": "sprain",
    "torn": "tear",
    "cancer": "malignant neoplasm",
    "tumor": "neoplasm",
    "tumour": "neoplasm",
    "pneumonia": "pneumonia",
    "dislocated": "dislocation",
    "burned": "burn",
    "cut": "laceration",
    "bruise": "contusion",
    "obese": "obesity",
    "overweight": "overweight",
    "copd": "chronic obstructive pulmonary disease",
    "uti": "urinary tract infection",
    "chf": "heart failure",
    "afib": "atrial fibrillation",
    "appendectomy": "resection appendix",
    "colonoscopy": "colonoscopy",
}
STOP = {
    "a",
    "an",
    "the",
    "of",
    "for",
    "to",
    "in",
    "on",
    "at",
    "by",
    "with",
    "and",
    "or",
    "what",
    "which",
    "is",
    "are",
    "was",
    "be",
    "code",
    "codes",
    "coding",
    "icd",
    "icd10",
    "icd-10",
    "10",
    "cm",
    "pcs",
    "hcpcs",
    "cpt",
    "diagnosis",
    "diagnoses",
    "dx",
    "procedure",
    "do",
    "does",
    "i",
    "we",
    "you",
    "how",
    "should",
    "would",
    "could",
    "can",
    "find",
    "me",
    "please",
    "tell",
    "give",
    "use",
    "report",
    "bill",
    "look",
    "up",
    "lookup",
    "patient",
    "patients",
    "right",
    "correct",
    "proper",
    "best",
    "number",
    "numbers",
    "there",
    "that",
    "this",
    "it",
}
PROCEDURE_WORDS = re.compile(
    r"ectomy|otomy|ostomy|plasty|scopy|pexy|\bprocedure|\bsurgery|\bremoval|\binsertion|"
    r"\bresection|\breplacement|\bbiopsy|\brepair"
)


def search_terms(text: str) -> list[str]:
    low = text.lower()
    for phrase, repl in SYNONYMS.items():
        low = re.sub(rf"\b{re.escape(phrase)}\b", repl, low)
    return [w for w in re.findall(r"[a-z][a-z0-9]+|\b[0-9]\b", low) if w not in STOP]


def find_codes(
    facts: Facts, q: Question, finder: CodeFinder = DEFAULT_FINDER, strict: bool = False
) -> Doc | None:
    """Codes found from the question's words; `strict` when the question did not ask for codes."""
    terms = search_terms(q.words())
    if not terms:
        return None
    sets: tuple[str, ...]
    if q.codesets:
        sets = tuple(cs for cs in q.codesets if cs != CPT)
    elif PROCEDURE_WORDS.search(q.low):
        sets = (ICD10PCS, HCPCS)
    else:
        sets = (ICD10CM,)
    sets = tuple(cs for cs in sets if cs in facts.codesets) or tuple(
        cs for cs in (ICD10CM,) if cs in facts.codesets
    )
    hits = finder.find(facts, terms, sets, 8, strict) if sets else []
    if not hits:
        return None
    doc = Doc()
    what = " ".join(terms)
    doc.p(
        f"Codes that match '{what}', best first (found by {finder.describe}; check the Alphabetic Index "
        "and the code's notes before you choose):"
    )
    items: list[Line] = []
    for cs, key, title in hits:
        code = facts.code(cs, key)
        billable = (
            ""
            if code is None or code.billable is None
            else (" (billable)" if code.billable else " (header: pick a more specific code)")
        )
        items.append(
            [
                f"{CODESET_NAMES.get(cs, cs)} ",
                doc.cite_code(cs, key, title, facts.releases.get(cs, "")),
                f" — {title}{billable}",
            ]
        )
    doc.ul(items)
    if CPT in (q.codesets or ()):
        doc.p(
            "CPT® codes cannot be found by words here: their descriptors are the AMA's and are not on this "
             "site."
        )
    return doc
