"""Answers about releases: is a code new, when was it deleted and what replaced it, what changed in it,
what a release changed, and which release applies to a date of service.

Everything comes from the facts' `releases` and `changes` (written from the same comparisons as the
history blocks and change pages, and the same catalog as `coderef releases`); where those hold nothing
the answer says "I don't know" and why, never a guess.
"""

from __future__ import annotations

import re
from datetime import date

from generator.history.compare import DEFAULT_KINDS, KINDS
from generator.history.releases import Release, applies, consecutive
from generator.model import CODESET_NAMES, HCPCS, ICD10CM, ICD10PCS
from generator.urls import changes_path, codeset_path, guide_path, page_path

from .doc import Doc, Line, Link
from .facts import Change, CodeFact, Facts
from .understand import Mention, Question

# The data sets `coderef releases` knows beside the code sets, how questions name them, and the guide
# cited for them (their releases have no page of their own).
DATA_SETS: dict[str, tuple[str, re.Pattern[str], str]] = {
    ICD10CM: ("ICD-10-CM", re.compile(r"\bicd[- ]?10[- ]?cm\b|\bdiagnos[ie]s\b|\bdx\b"), ""),
    ICD10PCS: ("ICD-10-PCS", re.compile(r"\bicd[- ]?10[- ]?pcs\b|\bpcs\b"), ""),
    HCPCS: ("HCPCS Level II", re.compile(r"\bhcpcs\b|\blevel ii\b"), ""),
    "ncci": ("NCCI edits", re.compile(r"\bncci\b|\bptp\b|procedure[- ]to[- ]procedure"), "ncci-basics"),
    "mue": ("MUEs", re.compile(r"\bmues?\b|medically unlikely"), "ncci-basics"),
    "pfs": ("Physician Fee Schedule RVUs", re.compile(r"\bpfs\b|\bfee schedule\b|\brvus?\b"),
            "medicare-physician-payment"),
}
_KIND_WORDS = {"new": "new codes", "revised": "revised titles", "deleted": "deleted codes",
               "status": "billable status changes", "terminated": "terminated codes"}
_REPLACED = re.compile(
    r"\breplac|\binstead\b|\bsuccessor|\bwhat (?:do|should|can) i use\b|\bin (?:its|their) place\b"
)


def _name(codeset: str) -> str:
    return CODESET_NAMES.get(codeset, DATA_SETS.get(codeset, (codeset,))[0])


def _quote(text: str) -> str:
    return f"\u201c{text}\u201d"


def _cite_changes(doc: Doc, facts: Facts, codeset: str, release: str) -> Line:
    """A link to the change page of `release`, cited."""
    url = changes_path(codeset, release.lower())
    title = f"{_name(codeset)} {release}: what changed"
    return [doc.cite(url, title, _label(facts, codeset, release))]


def _label(facts: Facts, codeset: str, release: str) -> str:
    return next((r.label for r in facts.held.get(codeset, []) if r.name == release), release)


def _span(facts: Facts, c: Change) -> str:
    """When a change came: "in FY2026", or "between 2020-01 and 2024-07" when the two releases compared
    are not consecutive (the updates between them are not held)."""
    held = {r.name: r for r in facts.held.get(c.codeset, [])}
    old, new = held.get(c.previous), held.get(c.release)
    if old is not None and new is not None and not consecutive(old, new):
        return f"between {c.previous} and {c.release}"
    return f"in {c.release}"


def _compared(facts: Facts, codeset: str) -> list[Release]:
    """The releases of a code set whose changes the site holds (two or more), oldest first."""
    held = facts.held.get(codeset, [])
    return held if codeset in facts.codesets and len(held) >= 2 else []


# ------------------------------------------------------------------------------------ one code


def code_history(facts: Facts, code: CodeFact, q: Question) -> Doc:
    """Is it new, what changed in it, in the releases held; "I don't know" with one release held."""
    doc = Doc()
    name = _name(code.codeset)
    held = _compared(facts, code.codeset)
    link = doc.cite_code(code.codeset, code.key, code.title, held[-1].label if held else code.source)
    if not held:
        doc.kind = "unknown"
        one = facts.held.get(code.codeset, [])
        which = f" ({one[-1].label})" if one else ""
        doc.p(
            f"I don't know whether {name} ", link, " is new or what changed in it: this site holds one "
            f"release of {name} only{which}, so it has no earlier release to compare it with."
        )
        return doc
    current, names = held[-1], ", ".join(r.name for r in held)
    changes = [c for c in facts.changes(code.key, (code.codeset,)) if c.key == code.key]
    added = [c for c in changes if c.kind == "new"]
    if added and added[-1].release == current.name and _span(facts, added[-1]).startswith("between"):
        a = added[-1]
        dated = f" CMS's file gives its added date as {a.added}." if a.added else ""
        doc.p(f"Yes: {name} ", link, f" is new since {a.previous}: it is not in {a.previous} and is in "
              f"{current.name}; the updates between the two are not held here, so it came in one of them."
              f"{dated}")
    elif added and added[-1].release == current.name:
        doc.p(f"Yes: {name} ", link, f" is new in {current.name}: it is not in {added[-1].previous}.")
    elif added:
        doc.p(f"{name} ", link, f" was added in {added[-1].release} (it is not in {added[-1].previous}); "
              f"it is not new in {current.name}.")
    else:
        added_on = dict(code.facts).get("Added", "") if code.codeset == HCPCS else ""
        first = (f"CMS's file gives its added date as {added_on}." if added_on else
                 f"When it was first added is older than {held[0].name}, the oldest release held here, so I "
                 "cannot say.")
        doc.p(f"{name} ", link, f" is not new in {current.name}: it is in every release held here ({names}). "
              f"{first}")
    if added and added[-1].ended:
        doc.p(f"It has since been terminated: CMS's {current.name} file gives its termination date as "
              f"{added[-1].ended} (it stays in the file for claims with earlier dates of service).")
    events = [c for c in changes if c.kind in ("revised", "status", "terminated")]
    if events:
        doc.p("What changed:")
        doc.ul([_event(doc, facts, c) for c in events])
    elif not added:
        same = ("same long description, and not terminated" if code.codeset == HCPCS
                else "same title and billable status")
        doc.p(f"Nothing changed in it between {held[0].name} and {current.name}: {same} in every release "
              "held.")
    doc.p(f"Today's title: {code.title or code.short_title} ({current.label}, in force {current.dates()}).")
    return doc


def _event(doc: Doc, facts: Facts, c: Change) -> Line:
    when = _span(facts, c)
    what = when[:1].upper() + when[1:]
    if c.kind == "revised":
        text = f"{what}: title revised. Was {_quote(c.old)}; now {_quote(c.new)}. See "
    elif c.kind == "terminated":
        text = (f"{what}: terminated, with the termination date {c.old} (it was active in {c.previous}; "
                "CMS keeps it in the file for claims with earlier dates of service). See ")
    else:
        text = f"{what}: billable status changed from {c.old} to {c.new}. See "
    return [text, *_cite_changes(doc, facts, c.codeset, c.release), "."]


def valid_on(facts: Facts, code: CodeFact, day: date) -> Doc:
    """Whether a code of today is in the release in force on `day` (from the releases held only; for
    HCPCS, from the added and termination dates CMS's file gives the code, which are authoritative)."""
    doc = Doc()
    name = _name(code.codeset)
    held = _compared(facts, code.codeset) or facts.held.get(code.codeset, [])
    link = doc.cite_code(code.codeset, code.key, code.title, held[-1].label if held else code.source)
    dates = dict(code.facts)
    if code.codeset == HCPCS and dates.get("Added"):
        return _hcpcs_valid_on(doc, link, code, day, dates, held[-1] if held else None)
    found = applies(held, day)
    if found is None:
        doc.kind = "unknown"
        doc.p(f"I don't know whether {name} ", link, f" applies on {day.isoformat()}: no release of {name} "
              "held here covers that date.")
        return doc
    names = [r.name for r in held]
    at = names.index(found.name)
    later = [c for c in facts.changes(code.key, (code.codeset,))
             if c.key == code.key and c.kind == "new" and c.release in names and names.index(c.release) > at]
    if later:
        doc.p(f"No: {name} ", link, f" is not in {found.label}, the release in force on {day.isoformat()} "
              f"({found.dates()}); it was added in {later[0].release}.")
        return doc
    if at == len(held) - 1 and found.held_from is not None and day < found.held_from:
        new_here = any(c.kind == "new" and c.release == found.name
                       for c in facts.changes(code.key, (code.codeset,)) if c.key == code.key)
        if new_here:
            doc.kind = "unknown"
            doc.p(f"I don't know: {name} ", link, f" is new in {found.label}, in force {found.dates()}, "
                  f"but the site holds its update of {found.held_from.isoformat()} only, so it cannot tell "
                  f"whether the code applies from {found.start.isoformat()} or from "
                  f"{found.held_from.isoformat()}.")
            return doc
    doc.p(f"Yes: {name} ", link, f" is in {found.label}, the release in force on {day.isoformat()} "
          f"({found.dates()}).")
    return doc


def _hcpcs_valid_on(doc: Doc, link: Link, code: CodeFact, day: date, dates: dict[str, str],
                    current: Release | None) -> Doc:
    """CMS's HCPCS file dates every code: added, and terminated (the file keeps a terminated code for
    claims with earlier dates of service). A code is valid from the one to the other."""
    added, ended = dates["Added"], dates.get("Termination date", "")
    which = f"CMS's {current.label} file" if current is not None else "CMS's file"
    span = f"added {added}" + (f", terminated {ended}" if ended else ", not terminated")
    when = day.isoformat()
    if when < added:
        doc.p("No: HCPCS Level II ", link, f" was not yet a code on {when}: {which} gives it {span}.")
    elif ended and when > ended:
        doc.p("No: HCPCS Level II ", link, f" was terminated before {when}: {which} gives it {span}; it is "
              f"valid for dates of service up to {ended} only.")
    else:
        doc.p("Yes: HCPCS Level II ", link, f" is valid on {when}: {which} gives it {span}.")
    return doc


# ---------------------------------------------------------------------------------- deleted codes


def deleted(facts: Facts, mentions: list[Mention], q: Question) -> Doc | None:
    """What the releases held say of codes that are no longer codes (None: none of them was deleted)."""
    doc = Doc()
    for m in mentions[:3]:
        found = [c for c in facts.changes(m.token, m.shapes) if c.kind == "deleted"]
        if found:
            doc.extend(_deleted(facts, found[-1], q))
    return doc if doc.blocks else None


def _deleted(facts: Facts, c: Change, q: Question) -> Doc:
    doc = Doc()
    name = _name(c.codeset)
    release = next((r for r in facts.held.get(c.codeset, []) if r.name == c.release), None)
    when = f" (in force {release.dates()})" if release is not None else ""
    url = page_path(c.codeset, c.key)
    doc.cite(url, f"{name} {c.key} (deleted in {c.release})", _label(facts, c.codeset, c.release))
    page = Link(c.key, url)
    doc.p(f"{name} ", page, f" was deleted in {c.release}{when}: it is in {c.previous}, titled "
          f"{_quote(c.old)}, and not in {c.release}. It is not valid for dates of service from "
          f"{release.start.isoformat() if release else c.release} on.")
    if c.successors:
        doc.p(f"In its place {c.release} added these codes beneath it:")
        doc.ul([[doc.cite_code(c.codeset, k, t, _label(facts, c.codeset, c.release)), f" — {t}"]
                for k, t in c.successors])
        doc.p("CMS publishes no table of replacements with the code files: these are the codes added under "
              "the same stem, with the same 7th character. Choose the one the record supports.")
    else:
        said = "The releases held name no code that replaced it. " if _REPLACED.search(q.low) else ""
        if c.near is not None:
            k, t = c.near
            doc.p(f"{said}Look at the nearest code of today instead: ",
                  doc.cite_code(c.codeset, k, t, _label(facts, c.codeset, c.release)), f" — {t}.")
        elif said:
            doc.p(said.strip())
    doc.p("All the codes it changed: ", *_cite_changes(doc, facts, c.codeset, c.release), ".")
    return doc


# -------------------------------------------------------------------------------- a whole release


def release_changes(facts: Facts, q: Question) -> Doc | None:
    """What a release changed ("what's new in ICD-10-CM FY2026"); None when the question names no code
    set or release the site compares."""
    named_sets = [k for k, (_, rx, _) in DATA_SETS.items() if rx.search(q.low)] + [
        cs for cs in q.codesets if cs not in DATA_SETS
    ]
    if named_sets:
        sets = [cs for cs in named_sets if _compared(facts, cs)]
    else:
        sets = [cs for cs in facts.codesets if _compared(facts, cs)
                and (not q.release_names or any(r.name in q.release_names for r in facts.held[cs]))]
    if not sets:
        if not (named_sets or q.release_names):
            return None
        doc = Doc(kind="unknown")
        named = ", ".join([_name(cs) for cs in named_sets] + q.release_names)
        doc.p(f"I don't know what changed in {named}: this site holds no earlier release of it to compare "
              "with, so it cannot tell new, revised or deleted codes apart.")
        return doc
    doc = Doc()
    for cs in sets[:2]:
        held = _compared(facts, cs)
        names = [r.name for r in held]
        wanted = [n for n in q.release_names if n in names] or ([] if q.release_names else [names[-1]])
        if not wanted or wanted == [names[0]]:
            doc.kind = "unknown"
            asked = ", ".join(q.release_names)
            doc.p(f"I don't know what {_name(cs)} {asked} changed: the releases held here are "
                  f"{', '.join(names)}, and a release is compared only with the one before it.")
            continue
        for name in wanted:
            if name == names[0]:
                continue
            release = held[names.index(name)]
            previous = held[names.index(name) - 1]
            counts = facts.change_counts(cs, name)
            said = ", ".join(f"{_KIND_WORDS[k]}: {counts.get(k, 0)}" for k in KINDS.get(cs, DEFAULT_KINDS))
            span = "" if consecutive(previous, release) else (
                f" The releases held are {previous.name} and {name}; the updates between them are not "
                "held separately, so these counts span all of them."
            )
            where = "by letter" if cs == HCPCS else "by chapter and section"
            doc.p(f"{release.label}, in force {release.dates()}, compared with {previous.name}: {said}."
                  f"{span} The full lists, {where}: ", *_cite_changes(doc, facts, cs, name), ".")
            first = facts.changed_in(cs, name, "new", 5)
            if first:
                doc.p(f"The first new codes in {_name(cs)} order:")
                doc.ul([[doc.cite_code(cs, k, t, release.label), f" — {t}"] for k, t in first])
    return doc


# ------------------------------------------------------------------------------- date of service


def date_of_service(facts: Facts, q: Question, codesets: list[str] | None = None) -> Doc:
    """Which release of each named code set or data set (those of `codesets`, else those the question
    names, else all held) is in force on the dates the question names."""
    doc = Doc()
    if q.bad_dates and not q.dates:
        doc.kind = "unknown"
        doc.p(f"{q.bad_dates[0]} is not a date; write the date of service as e.g. 2025-11-03.")
        return doc
    named = [k for k, (_, rx, _) in DATA_SETS.items()
             if (k in codesets if codesets else rx.search(q.low)) and k in facts.held]
    sets = named or [k for k in DATA_SETS if k in facts.held]
    if not sets:
        doc.kind = "unknown"
        doc.p("I don't know: this build's facts name no releases (rebuild the site).")
        return doc
    unknown = 0
    lines: list[Line] = []
    for day in q.dates[:3]:
        for cs in sets:
            line = _in_force(doc, facts, cs, day)
            unknown += line[0] == "?"
            lines.append(line[1:])
    if unknown == len(lines):
        doc.kind = "unknown"
        doc.p("I don't know: no release held here covers that date of service, so I cannot say which "
              "applies.")
    doc.ul(lines)
    return doc


def _in_force(doc: Doc, facts: Facts, cs: str, day: date) -> Line:
    """["" or "?", the line]: the release of `cs` in force on `day` ("?": none held covers it)."""
    releases = facts.held[cs]
    found = applies(releases, day)
    what = f"{DATA_SETS[cs][0]} on {day.isoformat()}: "
    if found is None:
        held = ", ".join(f"{r.name} ({r.dates()})" for r in releases)
        return ["?", what, f"I don't know — no release held here covers that date (held: {held})."]
    line: Line = ["", what, f"{found.label}, in force {found.dates()}"]
    if found.held_from is not None and day < found.held_from:
        line.append(f"; the site holds its update of {found.held_from.isoformat()}: codes that update added "
                    f"do not apply on {day.isoformat()}")
    if cs in facts.codesets:
        compared = _compared(facts, cs)
        if compared and found.name != compared[0].name:
            line += [". What it changed: ", *_cite_changes(doc, facts, cs, found.name)]
        else:
            line += [". ", doc.cite(codeset_path(cs), f"{_name(cs)} codes", found.label)]
    elif DATA_SETS[cs][2] and facts.guide(DATA_SETS[cs][2]) is not None:
        slug = DATA_SETS[cs][2]
        guide = facts.guide(slug)
        assert guide is not None
        line += [". About these files: ", doc.cite(guide_path(slug), guide[0], found.label)]
    line.append(".")
    return line
