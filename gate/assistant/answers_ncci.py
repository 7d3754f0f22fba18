"""NCCI answers: procedure-to-procedure pairs (either order), MUEs and add-on codes — from the same
snapshots and explanations (generator/premium) as the pages' premium sections."""

from __future__ import annotations

from generator.premium import aoc as aoc_mod
from generator.premium import mue as mue_mod
from generator.premium import ncci as ncci_mod
from generator.premium.db import cite
from generator.premium.payment import GLOBAL
from generator.premium.tabular import show_date

from .answers_codes import label, release_of
from .doc import Doc, Line
from .facts import CodeFact, Facts
from .understand import Question

NCCI_MODIFIERS = {
    "E1",
    "E2",
    "E3",
    "E4",
    "FA",
    "F1",
    "F2",
    "F3",
    "F4",
    "F5",
    "F6",
    "F7",
    "F8",
    "F9",
    "LC",
    "LD",
    "LM",
    "LT",
    "RC",
    "RI",
    "RT",
    "TA",
    "T1",
    "T2",
    "T3",
    "T4",
    "T5",
    "T6",
    "T7",
    "T8",
    "T9",
    "24",
    "25",
    "27",
    "57",
    "58",
    "59",
    "78",
    "79",
    "91",
    "XE",
    "XS",
    "XP",
    "XU",
}
_SETTING_OF = {"practitioner": "ncci-ptp-practitioner", "hospital": "ncci-ptp-hospital"}


def pair(facts: Facts, a: CodeFact, b: CodeFact, q: Question) -> Doc:
    doc = Doc()
    if not facts.ptp:
        doc.kind = "unknown"
        doc.p(
            "No NCCI procedure-to-procedure edit file has been imported on this site, so I cannot say "
            "whether "
            f"{a.key} and {b.key} may be billed together."
        )
        return doc
    wanted = [_SETTING_OF[s] for s in q.settings if s in _SETTING_OF]
    sources = [s for s in facts.ptp if not wanted or s.kind in wanted] or facts.ptp
    la = doc.cite_code(a.codeset, a.key, a.title, release_of(facts, a))
    lb = doc.cite_code(b.codeset, b.key, b.title, release_of(facts, b))
    # A question that names a setting ("in a hospital") is answered for that setting only: say so, or "no
    # edit" would read as no edit anywhere.
    settings = " and ".join(s.setting for s in sources)
    scope = "" if len(sources) == len(facts.ptp) else f" in the {settings} edits"
    found_any = False
    lines: list[Line] = []
    for src in sources:
        rows = src.pair_rows(a.key, b.key)
        where = f"{src.setting.capitalize()} edits ({src.label()})"
        if not rows:
            lines.append([f"{where}: no edit for this pair."])
            continue
        found_any = True
        for c1, c2, eff, dele, mod, rat in rows:
            text = (
                f"{where}: column 1 {c1}, column 2 {c2}; modifier indicator {mod} — "
                f"{ncci_mod.MODIFIER.get(mod, 'unknown')}"
            )
            if rat:
                text += f"; rationale: {rat}"
            if eff:
                text += f"; effective {show_date(eff)}"
            if dele is not None:
                text += f"; deleted {show_date(dele)} (applies only to dates of service before then)"
            lines.append([text + "."])
    if found_any:
        active = [ln for ln in lines if "deleted" not in str(ln[0]) and "no edit" not in str(ln[0])]
        verdict = (
            "Yes, but only one is paid unless the edit allows a modifier: NCCI pairs "
            if active
            else "NCCI had an edit for "
        )
        doc.p(
            verdict,
            la,
            " and ",
            lb,
            f"{scope}. When both are reported for the same patient on the same date by the same "
            "provider, the column 2 code is denied unless the modifier indicator allows an NCCI-associated "
            "modifier "
            "and one applies.",
        )
    else:
        doc.p(
            "No NCCI procedure-to-procedure edit pairs ",
            la,
            " and ",
            lb,
            f" (in either order){scope}: NCCI does not stop "
            "them being paid together"
            + (" in that setting" if scope else "")
            + ". Other rules (global surgery, MUEs, payer policy) may still apply.",
        )
    doc.ul(lines)
    named = [m for m in q.modifiers if m in NCCI_MODIFIERS]
    if found_any and named:
        doc.p(
            f"Modifier {', '.join(named)} {'is' if len(named) == 1 else 'are'} NCCI-associated: "
            "it bypasses an edit only where the modifier indicator is 1 and the documentation supports it."
        )
    return doc


def mue(facts: Facts, code: CodeFact, q: Question) -> Doc:
    doc = Doc()
    link = doc.cite_code(code.codeset, code.key, code.title, release_of(facts, code))
    lines: list[Line] = []
    for src in facts.mue:
        for value, mai, rationale in src.rows(code.key):
            lines.append(
                [
                    f"{src.setting}: {value} unit{'s' if value != 1 else ''} per date of service; "
                    f"adjudication "
                    f"indicator {mai} — {mue_mod.MAI.get(mai, 'unknown')}"
                    + (f"; rationale: {rationale}" if rationale else "")
                    + f" ({cite('MUEs (' + src.setting.lower() + ')', src.release, src.file)})."
                ]
            )
    if not facts.mue:
        doc.kind = "unknown"
        doc.p("No MUE file has been imported on this site, so I cannot give the unit limit of ", link, ".")
    elif not lines:
        doc.p(
            "CMS publishes no medically unlikely edit (MUE) for ",
            link,
            " in the imported files: there is no NCCI unit limit, though payers may have their own.",
        )
    else:
        doc.p(
            "Medically unlikely edits for ",
            link,
            " (the most units one provider reports for one patient on one date of service in most cases):",
        )
        doc.ul(lines)
    return doc


def addon(facts: Facts, code: CodeFact, q: Question) -> Doc:
    doc = Doc()
    link = doc.cite_code(code.codeset, code.key, code.title, release_of(facts, code))
    src = facts.aoc
    glob = ""
    if facts.rvu is not None:
        rows = facts.rvu.rows(code.key)
        glob = rows[0].glob if rows else ""
    if src is None:
        doc.kind = "unknown"
        doc.p("No NCCI add-on code file has been imported on this site.")
        if glob == "ZZZ":
            doc.p("The fee schedule gives ", link, f" global days ZZZ — {GLOBAL['ZZZ']}.")
        return doc
    source = cite("NCCI add-on code edits", src.release, src.file)
    as_addon = [r for r in src.as_addon(code.key) if r[2] is None]
    as_primary = [r for r in src.as_primary(code.key) if r[2] is None]
    if as_addon:
        types = sorted({t for _, t, _ in as_addon})
        prims = sorted({p for p, _, _ in as_addon if p})
        doc.p("Yes: ", link, f" is an add-on code ({source}); report it only with a primary service.")
        doc.ul([[aoc_mod.EDIT_TYPE.get(t, str(t))] for t in types])
        if prims:
            doc.p(
                "Eligible primary codes: "
                + ", ".join(prims[:40])
                + (" and more on the page." if len(prims) > 40 else ".")
            )
        else:
            doc.p(
                "CMS lists no specific primary codes for it: the Medicare contractor decides which "
                 "primaries are eligible."
            )
    else:
        doc.p("No: ", link, f" is not an add-on code in the NCCI add-on code list ({source}).")
        if glob == "ZZZ":
            doc.p(f"Note: the fee schedule gives it global days ZZZ — {GLOBAL['ZZZ']}.")
    if as_primary:
        addons = sorted({a for a, _, _ in as_primary})
        doc.p(
            f"{label(code)} is an eligible primary code for these add-on codes: "
            + ", ".join(addons[:40])
            + (" and more on the page." if len(addons) > 40 else ".")
        )
    return doc
