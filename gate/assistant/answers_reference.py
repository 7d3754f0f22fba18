"""Reference answers: modifiers, GEM crosswalks, Medicare coverage (LCDs/Articles) and the guides."""

from __future__ import annotations

import re

from generator.model import ICD10CM, ICD10PCS
from generator.premium import gems as gems_mod

from .answers_codes import SYNONYMS, release_of, search_terms
from .answers_ncci import NCCI_MODIFIERS
from .doc import Doc, Line
from .facts import CodeFact, Facts, PassageHit
from .understand import ICD9_PROC, Mention, Question

GUIDE_RELEASE = "coderef guide"
GUIDE_SYNONYMS = {
    r"\b(?:7th|seventh) character a\b": "initial encounter active treatment 7th character",
    r"\b(?:7th|seventh) character d\b": "subsequent encounter healing recovery 7th character",
    r"\b(?:7th|seventh) character s\b": "sequela 7th character",
    r"\bglobal period\b": "global days",
    r"\be/?m\b": "em office outpatient evaluation management visit level",
    r"\bmdm\b": "medical decision making",
    r"\b7th\b": "7th character",
    r"\bseventh\b": "7th character",
    r"\bx modifiers?\b": "modifier XE XS XP XU",
    r"\bptp\b": "procedure-to-procedure edit",
    r"\bmai\b": "adjudication indicator",
    r"\bgpci\b": "geographic",
    r"\brvus?\b": "relative value units",
    r"\blcds?\b": "local coverage determination",
}
GUIDE_STOP = {
    "rule",
    "rules",
    "explain",
    "mean",
    "means",
    "meaning",
    "when",
    "should",
    "would",
    "does",
    "tell",
    "about",
    "use",
    "using",
    "used",
}


def _flags(approx: int, combo: int, scenario: int, choice: int) -> str:
    words = ["approximate: the codes do not mean exactly the same" if approx else "exact match"]
    if combo:
        words.append(
            f"combination: scenario {scenario}, choice list {choice} — one code from each choice list of the "
            "scenario is needed together"
        )
    return "; ".join(words)


def to_icd9(facts: Facts, code: CodeFact) -> Doc:
    doc = Doc()
    link = doc.cite_code(code.codeset, code.key, code.title, release_of(facts, code))
    procedure = code.codeset == ICD10PCS
    bare = gems_mod.gem_code(code.codeset, code.key)
    forward = [g for g in facts.gems if g.codeset == code.codeset and g.forward]
    if not forward:
        doc.kind = "unknown"
        doc.p(
            "No GEM file for this direction has been imported on this site, so I cannot crosswalk ", link, "."
        )
        return doc
    lines: list[Line] = []
    for src in forward:
        for icd9, approx, nomap, combo, scenario, choice in src.rows(bare):
            if nomap or not icd9:
                lines.append([f"No ICD-9-CM equivalent (no map) ({src.label} GEMs {src.release})"])
                continue
            desc = facts.icd9_description(code.codeset, icd9)
            lines.append(
                [
                    (
                        f"{gems_mod.icd9_display(icd9, procedure)}{' ' + desc if desc else ''} — "
                        f"{_flags(approx, combo, scenario, choice)} ({src.label} GEMs {src.release})"
                    )
                ]
            )
    if lines:
        doc.p("ICD-9-CM crosswalk of ", link, f" — {code.title}:")
        doc.ul(lines)
    else:
        doc.p("The GEMs have no mapping for ", link, " (it may be newer than the final 2018 GEMs).")
    return doc


def from_icd9(facts: Facts, m: Mention) -> Doc:
    doc = Doc()
    procedure = ICD9_PROC in m.shapes
    bare = m.token.replace(".", "").upper()
    shown = gems_mod.icd9_display(bare, procedure)
    rows = [r for r in facts.from_icd9(bare) if (r[0] == "gem-icd9-to-pcs") == procedure]
    codeset = ICD10PCS if procedure else ICD10CM
    desc = facts.icd9_description(codeset, bare)
    if not rows:
        doc.kind = "unknown"
        known = f" ({desc})" if desc else ""
        doc.p(
            f"The GEMs have no ICD-10 mapping for ICD-9-CM {shown}{known}"
            + (" — check the code: it is not in the ICD-9-CM descriptions either." if not desc else ".")
        )
        return doc
    doc.p(
        f"ICD-10-{'PCS' if procedure else 'CM'} codes for ICD-9-CM {shown}{' ' + desc if desc else ''} "
        "(General Equivalence Mappings, ICD-9 to ICD-10):"
    )
    lines: list[Line] = []
    for _kind, icd10, approx, combo, scenario, choice in rows[:20]:
        key = gems_mod.page_key(codeset, icd10)
        code = facts.code(codeset, key)
        title = code.title if code else ""
        target = doc.cite_code(codeset, key, title, release_of(facts, code) if code else "") if code else key
        lines.append([target, f" {title} — {_flags(approx, combo, scenario, choice)}"])
    if len(rows) > 20:
        lines.append(["… and more"])
    doc.ul(lines)
    src = next((g for g in facts.gems if g.codeset == codeset and not g.forward), None)
    if src is not None:
        doc.p(
            f"Source: {src.label} GEMs {src.release}, CMS. The GEMs are a translation aid: always check the "
            f"ICD-10 "
            "code's own notes."
        )
    return doc


def modifiers(facts: Facts, q: Question) -> Doc:
    doc = Doc()
    for mod in q.modifiers:
        hcpcs = facts.modifier(mod)
        page = facts.code("hcpcs", mod)
        release = facts.sources.get("hcpcs-modifiers", ("", ""))[0]
        if hcpcs is not None:
            description, _short, _facts = hcpcs
            if page is not None:
                link = doc.cite_code("hcpcs", mod, description, page.source)
                doc.p("HCPCS Level II modifier ", link, f": {description} ({release or page.source}).")
            else:
                doc.p(f"HCPCS Level II modifier {mod}: {description} ({release}).")
        elif mod.isdigit():
            doc.p(
                f"Modifier {mod} is a CPT® modifier: its official descriptor is the AMA's and is not "
                "reproduced here."
            )
        if mod in NCCI_MODIFIERS:
            doc.p(
                f"Modifier {mod} is an NCCI-associated modifier: where an NCCI procedure-to-procedure edit "
                "has modifier indicator 1, it may bypass the edit when the documentation supports it; "
                "with indicator 0 no modifier does."
            )
        hits = facts.passages(f'"{mod.lower()}"', 2)
        if hits:
            _passage(doc, hits[0])
        elif hcpcs is None and mod not in NCCI_MODIFIERS:
            doc.kind = "unknown"
            if mod.isdigit():
                doc.p(f"None of our guides covers modifier {mod}, and it is not a HCPCS Level II modifier; "
                      "the AMA's CPT manual defines it.")
            else:
                doc.p(f"I have no modifier {mod}: it is not among the HCPCS Level II modifiers imported "
                      "here, and no guide describes it.")
    return doc


def coverage(facts: Facts, q: Question, codes: list[CodeFact]) -> Doc:
    doc = Doc()
    release = facts.sources.get("lcd", ("", ""))[0]
    if not facts.has_lcds():
        doc.kind = "unknown"
        doc.p("The CMS LCD/Article list has not been imported on this site, so I cannot look up coverage.")
        return doc
    found = []
    for doc_id in q.lcd_ids:
        found += facts.lcd(doc_id)
    words = [
        t
        for t in search_terms(q.words())
        if t
        not in {
            "lcd",
            "lcds",
            "ncd",
            "coverage",
            "covered",
            "cover",
            "medicare",
            "local",
            "determination",
            "article",
            "articles",
            "policy",
            "any",
            "mac",
            "is",
            "there",
        }
    ]
    words = [w for w in words if w not in {"billing", "medical", "necessity", "contractor", "contractors"}]
    if not found and words:
        for joiner in (" AND ", " OR "):
            found = facts.lcds(joiner.join(f'"{w}"' for w in words))
            if found:
                break
    if not found and not codes and not q.lcd_ids:
        guide = guidelines(facts, q, 1)
        if guide is not None:
            return guide
    if not found:
        doc.kind = "unknown"
        what = " ".join(words) or "that"
        doc.p(
            f"I found no LCD or Article whose title matches '{what}' in the CMS list ({release}). There may "
            f"be a "
            "National Coverage Determination instead, or the policy may use other words: "
            "try the service's name."
        )
        if codes:
            doc.p(
                "Note: the list holds titles, IDs, contractors and dates only, "
                "not the codes each policy covers."
            )
        return doc
    listed = (
        f"CMS Medicare Coverage Database list, {release}"
        if release
        else "CMS Medicare Coverage Database list"
    )
    doc.p(f"Medicare coverage documents whose titles match ({listed}):")
    lines: list[Line] = []
    for d in found:
        link = (
            doc.cite(d.url, f"{d.type} {d.id} — {d.title}", release)
            if d.url
            else f"{d.type} {d.id} — {d.title}"
        )
        status = (
            f"retired {d.retired}"
            if d.retired
            else f"effective {d.effective}"
            if d.effective
            else "date not given"
        )
        lines.append(
            [
                link,
                f" ({d.id}, {d.type}): {d.contractor}; {status}"
                + (f"; version {d.version}" if d.version else ""),
            ]
        )
    doc.ul(lines)
    doc.p(
        "LCDs (L…) state the coverage criteria of one Medicare contractor; "
        "the billing and coding Articles (A…) "
        "list the codes. Check the document of the contractor that processes your claims."
    )
    return doc


def guide_terms(text: str) -> list[str]:
    """The question's words to look for in the guides, as FTS5 strings ('"denial"')."""
    low = text.lower()
    for rx, repl in GUIDE_SYNONYMS.items():
        low = re.sub(rx, repl, low)
    for phrase, repl in SYNONYMS.items():
        low = re.sub(rf"\b{re.escape(phrase)}\b", repl, low)
    terms = [t for t in search_terms(low) if t not in GUIDE_STOP]
    terms.extend(re.findall(r"\b(?:modifier|placeholder)\s+([a-z0-9]{1,2})\b", low))
    return [f'"{t}"' for t in dict.fromkeys(terms)]


PHRASES = (
    "code first",
    "use additional code",
    "code also",
    "placeholder x",
    "7th character",
    "excludes1",
    "excludes2",
    "modifier indicator",
    "adjudication indicator",
    "add-on code",
    "root operation",
    "medical decision making",
    "global days",
    "conversion factor",
    "new patient",
    "established patient",
    "prolonged",
    "etiology",
    "manifestation",
    "sequela",
    "initial encounter",
    "subsequent encounter",
    "column 1",
    "column 2",
    "local coverage determination",
    "distinct procedural",
    "separate encounter",
    "separate structure",
    "separate practitioner",
    "unusual non-overlapping",
    "principal diagnosis",
)


def guidelines(facts: Facts, q: Question, limit: int = 2) -> Doc | None:
    low = q.words().lower().replace("excludes 1", "excludes1").replace("excludes 2", "excludes2")
    for rx, repl in GUIDE_SYNONYMS.items():
        low = re.sub(rx, repl, low)
    phrases = [p for p in PHRASES if p in low]
    body = "{heading text} : "  # a guide's title names its subject, not every passage's
    hits = facts.passages(" AND ".join(f'{body}"{p}"' for p in phrases), limit) if phrases else []
    if not hits and phrases:
        hits = facts.passages(" OR ".join(f'{body}"{p}"' for p in phrases), limit)
    terms = guide_terms(q.words())[:12]  # each is a query per candidate passage below
    if not hits and terms:
        # Any one word is a match for FTS5's OR: a passage must hold half the question's words to answer
        # it ("appeal a denial from Aetna" is not answered by a passage that only says "from").
        needed = (len(terms) + 1) // 2
        found = facts.passages(" OR ".join(terms), 4 * limit)
        hits = [h for h in found if facts.matches(h.id, terms) >= needed][:limit]
    if not hits:
        return None
    doc = Doc()
    for hit in hits:
        _passage(doc, hit)
    return doc


def _extract(text: str, limit: int = 900) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > limit // 2 else cut.rstrip() + "…"


def _passage(doc: Doc, hit: PassageHit) -> None:
    url = f"/guides/{hit.slug}/" + (f"#{hit.anchor}" if hit.anchor else "")
    title = hit.guide_title + (f" — {hit.heading}" if hit.anchor else "")
    link = doc.cite(url, title, GUIDE_RELEASE)
    doc.p("From our guide ", link, ":")
    doc.p(_extract(hit.text))
    doc.p("It summarises: " + "; ".join(hit.sources) + ".")
