"""What the CMS data says of a CPT or HCPCS code at a glance (for "What is CPT code 99213?")."""

from __future__ import annotations

from generator.premium.payment import GLOBAL, PAYABLE, STATUS
from generator.premium.sections import money

from .doc import Doc, Line
from .facts import CodeFact, Facts


def cms_summary(facts: Facts, code: CodeFact) -> Doc:
    doc = Doc()
    lines: list[Line] = []
    if facts.rvu is not None:
        rows = facts.rvu.rows(code.key)
        if rows:
            row = rows[0]
            text = (
                f"Medicare Physician Fee Schedule ({facts.rvu.release}): status {row.status} — "
                f"{STATUS.get(row.status, 'not a documented value')}"
            )
            if row.glob:
                text += f"; global days {row.glob} — {GLOBAL.get(row.glob, 'not a documented value')}"
            if row.status in PAYABLE and row.cf:
                text += (
                    f"; national payment {money((row.nf_total or 0) * row.cf)} non-facility, "
                    f"{money((row.f_total or 0) * row.cf)} facility"
                )
            lines.append([text + "."])
    for mue_src in facts.mue:
        for value, mai, _ in mue_src.rows(code.key):
            lines.append(
                [
                    (
                        f"MUE ({mue_src.setting.lower()}, {mue_src.release}): {value} "
                        f"unit{'s' if value != 1 else ''} per "
                        f"date of service, adjudication indicator {mai}."
                    )
                ]
            )
    roles = []
    for src in facts.ptp:
        c1, c2 = src.has_active(code.key, "c1"), src.has_active(code.key, "c2")
        if c1 or c2:
            what = " and ".join(x for x, ok in (("column 1", c1), ("column 2", c2)) if ok)
            roles.append(f"{what} of active {src.setting} edits")
    if roles:
        lines.append(
            [
                (f"NCCI procedure-to-procedure edits: {'; '.join(roles)} (ask 'Can {code.key} be billed with "
                 f"…?').")
            ]
        )
    if facts.aoc is not None:
        is_addon = any(r[2] is None for r in facts.aoc.as_addon(code.key))
        if is_addon:
            lines.append(
                [
                    (f"Add-on code in the NCCI add-on code edits ({facts.aoc.release}): report it only with "
                     f"a primary code.")
                ]
            )
    if lines:
        doc.p("What the CMS data on this site says:")
        doc.ul(lines)
    return doc
