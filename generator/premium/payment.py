"""The "RVUs and payment" section: RVUs, indicators in words, national and per-locality payment."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..model import Section
from .db import cite, read_meta
from .sections import details, esc, money, num, source

STATUS = {
    "A": "Active: paid under the fee schedule",
    "B": "Bundled: payment is always included in another service",
    "C": "Carrier priced: the Medicare contractor sets the payment",
    "D": "Deleted code",
    "E": "Excluded from the fee schedule by regulation",
    "F": "Deleted or discontinued code, no grace period",
    "G": "Not valid for Medicare; another code is used",
    "H": "Deleted modifier for this code",
    "I": "Not valid for Medicare payment; another code is used",
    "J": "Anesthesia service: no RVUs, paid by anesthesia base units",
    "M": "Measurement code: reported for quality programmes, no payment",
    "N": "Non-covered service",
    "P": "Bundled or excluded: no separate payment",
    "R": "Restricted coverage: paid only in special circumstances",
    "T": "Injection or minor service: paid only when no other fee-schedule service is billed that day",
    "X": "Statutory exclusion: not in the fee schedule by law",
}
PAYABLE = {"A", "R", "T"}

GLOBAL = {
    "000": "0 days: endoscopic or minor procedure, related services on the day of the procedure only",
    "010": "10 days: minor procedure, related services in the 10 days after are included",
    "090": "90 days: major surgery, the day before and 90 days after are included",
    "MMM": "maternity code: the usual global period does not apply",
    "XXX": "the global surgery concept does not apply",
    "YYY": "the Medicare contractor sets the global period",
    "ZZZ": "add-on code: within the global period of another service",
}
PCTC = {
    "0": "physician service: no professional/technical split",
    "1": "diagnostic test: professional (modifier 26) and technical (TC) components may be billed apart",
    "2": "professional component only",
    "3": "technical component only",
    "4": "global test only: the components have their own codes",
    "5": "incident-to code: not paid in a facility",
    "6": "laboratory physician interpretation",
    "7": "physical therapy service: not paid when billed by a physician in a hospital",
    "8": "physician interpretation code",
    "9": "the professional/technical concept does not apply",
}
MULT = {
    "0": "no multiple-procedure reduction",
    "1": "standard multiple-procedure rules (pre-1996)",
    "2": "standard reduction: 100% for the highest, 50% for the others",
    "3": "special rules for endoscopies in the same family",
    "4": "diagnostic imaging reduction of the technical component",
    "5": "therapy services: the practice expense is reduced",
    "6": "diagnostic cardiovascular services reduction",
    "7": "diagnostic ophthalmology services reduction",
    "9": "the concept does not apply",
}
BILAT = {"0": "150% payment adjustment does not apply", "1": "bilateral: paid at 150%",
         "2": "already a bilateral code: no adjustment", "3": "each side paid at 100%",
         "9": "the concept does not apply"}
ASST = {"0": "assistant at surgery paid only with documentation of medical necessity",
        "1": "assistant at surgery not paid", "2": "assistant at surgery may be paid",
        "9": "the concept does not apply"}
CO = {"0": "co-surgeons not permitted", "1": "co-surgeons paid with supporting documentation",
      "2": "co-surgeons permitted", "9": "the concept does not apply"}
TEAM = {"0": "team surgeons not permitted", "1": "team surgeons paid with supporting documentation",
        "2": "team surgeons permitted", "9": "the concept does not apply"}


@dataclass(frozen=True, slots=True)
class RvuRow:
    mod: str
    status: str
    work: float | None
    nf_pe: float | None
    f_pe: float | None
    mp: float | None
    nf_total: float | None
    f_total: float | None
    pctc: str
    glob: str
    mult: str
    bilat: str
    asst: str
    co: str
    team: str
    cf: float | None
    nf_na: str
    f_na: str


@dataclass(frozen=True, slots=True)
class Locality:
    state: str
    number: str
    name: str
    work: float
    pe: float
    mp: float


def locality_payment(row: RvuRow, loc: Locality, facility: bool) -> float:
    """The MPFS formula: (work RVU x work GPCI + PE RVU x PE GPCI + MP RVU x MP GPCI) x CF."""
    pe = row.f_pe if facility else row.nf_pe
    return ((row.work or 0) * loc.work + (pe or 0) * loc.pe + (row.mp or 0) * loc.mp) * (row.cf or 0)


class RvuSource:
    def __init__(self, db: sqlite3.Connection, gpci: sqlite3.Connection | None) -> None:
        self.db = db
        meta = read_meta(db)
        self.release = meta.get("release", "")
        self.file = meta.get("source_file", "")
        self._by_code: dict[str, list[RvuRow]] | None = None
        self.gpci_file = ""
        self.localities: list[Locality] = []
        self.gpci_release = ""
        if gpci is not None:
            gmeta = read_meta(gpci)
            self.gpci_release = gmeta.get("release", "")
            self.gpci_file = gmeta.get("source_file", "")
            self.localities = [
                Locality(str(s or ""), str(n), str(name), float(w), float(pe), float(mp))
                for s, n, name, w, pe, mp in gpci.execute(
                    "SELECT state, locality, name, work, pe, mp FROM gpci ORDER BY state, name, locality")
            ]
        # Each locality's first cells, escaped once: 10,000 pages repeat them 109 times each.
        self.locality_heads = [f"<tr><td>{esc(loc.state)} {esc(loc.number)}</td><td>{esc(loc.name)}</td>"
                               for loc in self.localities]

    def codes(self) -> set[str]:
        return {str(r[0]) for r in self.db.execute("SELECT DISTINCT code FROM rvu")}

    def rows(self, code: str) -> list[RvuRow]:
        q = ("SELECT mod, status, work, nf_pe, f_pe, mp, nf_total, f_total, pctc, glob, mult, bilat, asst, "
             "co, team, cf, nf_na, f_na FROM rvu WHERE code=? ORDER BY mod")
        return [RvuRow(*r) for r in self.db.execute(q, (code,))]

    def by_code(self) -> dict[str, list[RvuRow]]:
        """Every code's `rows`, read in one pass the first time (18,000 rows)."""
        if self._by_code is None:
            q = ("SELECT code, mod, status, work, nf_pe, f_pe, mp, nf_total, f_total, pctc, glob, mult, "
                 "bilat, asst, co, team, cf, nf_na, f_na FROM rvu ORDER BY code, mod")
            out: dict[str, list[RvuRow]] = {}
            for code, *cells in self.db.execute(q):
                out.setdefault(str(code), []).append(RvuRow(*cells))
            self._by_code = out
        return self._by_code


def _explain(label: str, table: dict[str, str], value: str) -> str:
    if not value:
        return ""
    return f"<dt>{esc(label)}</dt><dd>{esc(value)} — {esc(table.get(value, 'not a documented value'))}</dd>"


NA = "<abbr title=\"not applicable: CMS has not developed a practice expense RVU for this setting\">NA</abbr>"


def _payments(row: RvuRow, loc: Locality) -> str:
    return (f"<td>{NA if row.nf_na else money(locality_payment(row, loc, False))}</td>"
            f"<td>{NA if row.f_na else money(locality_payment(row, loc, True))}</td>")


def _localities(rows: list[RvuRow], src: RvuSource) -> str:
    """One table of the payable rows' payment in every locality: a column pair per modifier row, so a
    code with 26 and TC rows names each of the 109 localities once instead of three times."""
    trs = "".join(
        head + "".join(_payments(row, loc) for row in rows) + "</tr>"
        for loc, head in zip(src.localities, src.locality_heads, strict=True)
    )
    settings = '<th scope="col">Non-facility</th><th scope="col">Facility</th>'
    if len(rows) == 1:
        head = f'<tr><th scope="col">State and locality</th><th scope="col">Name</th>{settings}</tr>'
    else:
        mods = "".join(
            f'<th scope="col" colspan="2">{"Modifier " + esc(row.mod) if row.mod else "No modifier"}</th>'
            for row in rows
        )
        head = ('<tr><th scope="col" rowspan="2">State and locality</th>'
                f'<th scope="col" rowspan="2">Name</th>{mods}</tr><tr>{settings * len(rows)}</tr>')
    return f'<table class="gpci-payment"><thead>{head}</thead><tbody>{trs}</tbody></table>'


def render(code: str, src: RvuSource) -> Section | None:
    rows = src.by_code().get(code)
    if not rows:
        return None
    body = []
    for row in rows:
        payable = row.status in PAYABLE and row.cf
        nf = money((row.nf_total or 0) * (row.cf or 0)) if payable else "—"
        f = money((row.f_total or 0) * (row.cf or 0)) if payable else "—"
        # Where the file flags a setting's PE as NA, CMS prints NA for its PE, total and payment.
        nf_pe, nf_total = (NA, NA) if row.nf_na else (num(row.nf_pe), num(row.nf_total))
        f_pe, f_total = (NA, NA) if row.f_na else (num(row.f_pe), num(row.f_total))
        nf = NA if row.nf_na else nf
        f = NA if row.f_na else f
        body.append(
            f"<tr><th scope=\"row\">{esc(row.mod) or 'none'}</th><td>{esc(row.status)}</td>"
            f"<td>{num(row.work)}</td>"
            f"<td>{nf_pe}</td><td>{f_pe}</td><td>{num(row.mp)}</td>"
            f"<td>{nf_total}</td><td>{f_total}</td><td>{nf}</td><td>{f}</td></tr>"
        )
    main = rows[0]
    parts = [
        (
            '<table class="rvu"><thead><tr><th scope="col">Modifier</th><th scope="col">Status</th>'
            '<th scope="col">Work RVU</th><th scope="col">PE RVU non-facility</th>'
            '<th scope="col">PE RVU facility</th><th scope="col">MP RVU</th>'
            '<th scope="col">Total non-facility</th>'
            '<th scope="col">Total facility</th><th scope="col">National payment non-facility</th>'
            '<th scope="col">National payment facility</th></tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>"
        ),
    ]
    if main.cf:
        parts.append(f"<p>National payment = total RVUs × conversion factor {main.cf:.4f}.</p>")
    parts.append(
        "<dl class=\"indicators\">"
        + _explain("Status", STATUS, main.status)
        + _explain("Global days", GLOBAL, main.glob)
        + _explain("PC/TC indicator", PCTC, main.pctc)
        + _explain("Multiple procedures", MULT, main.mult)
        + _explain("Bilateral surgery", BILAT, main.bilat)
        + _explain("Assistant at surgery", ASST, main.asst)
        + _explain("Co-surgeons", CO, main.co)
        + _explain("Team surgery", TEAM, main.team)
        + "</dl>"
    )
    if any(row.nf_na or row.f_na for row in rows):
        parts.append("<p>NA: CMS has not developed a practice expense RVU for this setting.</p>")
    parts.append(source(cite("Medicare Physician Fee Schedule", src.release, src.file, effective=False)))
    paid = [row for row in rows if row.status in PAYABLE and row.cf]
    if src.localities and paid:
        what = "Payment by locality" + (
            f", modifier {esc(paid[0].mod)}" if len(paid) == 1 and paid[0].mod else "")
        parts.append(details(what, _localities(paid, src), len(src.localities), open_=False))
        parts.append(
            "<p>Locality payment = (work RVU × work GPCI + PE RVU × PE GPCI + MP RVU × MP GPCI) × conversion "
            "factor.</p>" + source(cite("Geographic practice cost indices", src.gpci_release, src.gpci_file,
                                          effective=False))
        )
    elif src.localities:  # said, not left for the reader to infer from a formula with no table
        statuses = ", ".join(dict.fromkeys(esc(row.status) for row in rows))
        parts.append(
            f"<p class=\"no-locality\">No payment by locality: Medicare does not pay this code from its RVUs "
            f"under the physician fee schedule (status {statuses}, above), so the geographic practice cost "
            "indices do not apply to it.</p>"
        )
    return Section(id="rvu-payment", kind="rvu", title="RVUs and payment", html="".join(parts))
