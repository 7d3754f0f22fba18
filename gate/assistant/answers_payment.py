"""Medicare payment answers: the RVU rows, GPCIs and formula of generator/premium/payment.py, as the page."""

from __future__ import annotations

import re

from generator.premium.payment import (
    ASST,
    BILAT,
    CO,
    GLOBAL,
    MULT,
    PAYABLE,
    PCTC,
    STATUS,
    TEAM,
    RvuRow,
    RvuSource,
    locality_payment,
)
from generator.premium.sections import money, num

from .answers_codes import release_of
from .doc import Doc, Line, Link
from .facts import CodeFact, Facts
from .places import find_places
from .understand import Question

INDICATORS = (
    ("global", r"global", "Global days", GLOBAL, "glob"),
    ("mult", r"multiple", "Multiple procedures", MULT, "mult"),
    ("bilat", r"bilateral", "Bilateral surgery", BILAT, "bilat"),
    ("asst", r"assistant", "Assistant at surgery", ASST, "asst"),
    ("co", r"co-?surg", "Co-surgeons", CO, "co"),
    ("team", r"team", "Team surgery", TEAM, "team"),
    (
        "pctc",
        r"pc/?tc|professional component|technical component|\b26\b|\btc\b",
        "PC/TC indicator",
        PCTC,
        "pctc",
    ),
    ("status", r"status", "Status", STATUS, "status"),
)
_LOCALITY_LIMIT = 12


def payment(facts: Facts, code: CodeFact, q: Question) -> Doc:
    doc = Doc()
    link = doc.cite_code(code.codeset, code.key, code.title, release_of(facts, code))
    src = facts.rvu
    if src is None:
        doc.kind = "unknown"
        doc.p(
            "No Medicare Physician Fee Schedule file (PPRRVU) has been imported on this site, so I have no "
            "payment "
            "figures for ",
            link,
            ".",
        )
        return doc
    rows = src.rows(code.key)
    if not rows:
        doc.p(
            "The Medicare Physician Fee Schedule (",
            src.release or "PPRRVU",
            ") has no row for ",
            link,
            ": it is not paid under the physician fee schedule (it may be paid under another fee schedule).",
        )
        return doc
    wanted_mod = next((m for m in q.modifiers if any(r.mod == m for r in rows)), "")
    row = next((r for r in rows if r.mod == wanted_mod), rows[0])
    what = f" with modifier {row.mod}" if row.mod else ""
    asked = [i for i in INDICATORS if re.search(i[1], q.low)]
    only_indicators = bool(asked) and not re.search(
        r"\bpay|paid|payment|reimburs|how much|\bfee\b|\brate\b|rvu|\bcost|price", q.low
    )
    payable = row.status in PAYABLE and bool(row.cf)
    if not only_indicators:
        if not payable:
            doc.p(
                "Medicare does not pay ",
                link,
                f"{what} under the fee schedule: status {row.status} — "
                f"{STATUS.get(row.status, 'not a documented value')} ({src.release}).",
            )
        else:
            _amounts(doc, link, row, what, src, q)
    if asked or not payable:
        lines: list[Line] = []
        for _, _, title, table, attr in asked or [i for i in INDICATORS if i[0] == "status"]:
            value = getattr(row, attr)
            if value:
                lines.append([f"{title}: {value} — {table.get(value, 'not a documented value')}"])
        if lines:
            doc.p("Fee schedule indicators for ", link, f"{what} ({src.release}):")
            doc.ul(lines)
    others = [r.mod for r in rows if r.mod and r is not row]
    if others and not only_indicators:
        doc.p(
            f"The fee schedule also has rows with modifier {', '.join(others)} (professional/technical "
            f"component); ask "
            f"for example 'payment for {code.key}-{others[0]}'."
        )
    return doc


NA_MEANING = (
    "NA: CMS has not developed a practice expense RVU for that setting, so the fee schedule sets no "
    "amount there (as on the code's page)."
)


def _or_na(flag: str, value: str) -> str:
    """The figure, or NA where the file flags the setting's PE as NA (the page's RVU table does the same)."""
    return "NA" if flag else value


def _amounts(doc: Doc, link: Link, row: RvuRow, what: str, src: RvuSource, q: Question) -> None:
    locs, named = find_places(q.text, src.localities) if src.localities else ([], "")
    nf_pe, f_pe = _or_na(row.nf_na, num(row.nf_pe)), _or_na(row.f_na, num(row.f_pe))
    rvus = (
        f"RVUs: work {num(row.work)}, practice expense {nf_pe} non-facility / {f_pe} "
        f"facility, "
        f"malpractice {num(row.mp)}; conversion factor {row.cf:.4f}"
        if row.cf
        else ""
    )
    if locs:
        doc.p(
            "Medicare Physician Fee Schedule payment for ",
            link,
            f"{what} in {named.title()} ({src.release}; GPCIs {src.gpci_release or src.release}):",
        )
        lines: list[Line] = []
        for loc in locs[:_LOCALITY_LIMIT]:
            lines.append(
                [
                    (
                        f"{loc.name.title()} ({loc.state}, locality {loc.number}): "
                        f"{_or_na(row.nf_na, money(locality_payment(row, loc, False)))} non-facility, "
                        f"{_or_na(row.f_na, money(locality_payment(row, loc, True)))} facility"
                    )
                ]
            )
        if len(locs) > _LOCALITY_LIMIT:
            lines.append(["… and more localities on the page"])
        doc.ul(lines)
        doc.p(
            ("Locality payment = (work RVU × work GPCI + PE RVU × PE GPCI + MP RVU × MP GPCI) × conversion "
             "factor. ")
            + (rvus + "." if rvus else "")
        )
    else:
        nf = _or_na(row.nf_na, money((row.nf_total or 0) * (row.cf or 0)))
        f = _or_na(row.f_na, money((row.f_total or 0) * (row.cf or 0)))
        nf_total, f_total = _or_na(row.nf_na, num(row.nf_total)), _or_na(row.f_na, num(row.f_total))
        doc.p(
            "National Medicare Physician Fee Schedule payment for ",
            link,
            f"{what} ({src.release}): {nf} non-facility "
            f"(office), {f} facility (total RVUs {nf_total} / {f_total} × conversion "
            f"factor "
            f"{row.cf:.4f}).",
        )
        if src.localities:
            doc.p(
                "Name a place (a city, a state or a Medicare locality) for the amount there, "
                "e.g. 'in Manhattan' or 'in Texas'."
            )
    if row.nf_na or row.f_na:
        doc.p(NA_MEANING)
    doc.p("These are fee schedule amounts before deductible, coinsurance and other adjustments.")
