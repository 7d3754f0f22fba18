"""Question understanding: code mentions of every code set's format, intents, places, settings.

Plain functions of the question text (and the page it was asked on); nothing here reads data.
Which code set a mention belongs to is decided later, against the facts (`resolve.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from generator.model import CPT, HCPCS, ICD10CM, ICD10PCS

ICD9 = "icd-9-cm"
ICD9_PROC = "icd-9-cm-procedure"
MODIFIER = "modifier"

_CM_DOTTED = re.compile(r"(?<![0-9A-Z.])([A-Z][0-9][0-9A-Z])\.([0-9A-Z]{1,4})(?![0-9A-Z])")
_ICD9_DOTTED = re.compile(
    r"(?<![0-9A-Z.$])((?:[0-9]{3}|V[0-9]{2})\.[0-9]{1,2}|E[0-9]{3}\.[0-9]|[0-9]{2}\.[0-9]{1,2})(?![0-9A-Z.])"
)
_TOKEN = re.compile(r"(?<![0-9A-Z$.,])([0-9A-Z]{3,7})(?![0-9A-Z]|\.[0-9])")
_MOD_AFTER = re.compile(
    r"\bmodifiers?\s*(?:[-:#]\s*)?((?:[0-9a-z]{2}\b(?:\s*(?:,|and|or|/|&|vs\.?|versus)\s*)?)+)", re.IGNORECASE
)
_MOD_BEFORE = re.compile(r"(?<![0-9a-z-])-?([0-9a-z]{2})\s+modifiers?\b", re.IGNORECASE)
# Two-letter English words that are not taken for a modifier unless written in capitals ("modifier AS").
_WORDS = {
    "is",
    "in",
    "of",
    "to",
    "on",
    "at",
    "by",
    "or",
    "an",
    "as",
    "be",
    "do",
    "if",
    "it",
    "me",
    "my",
    "no",
    "so",
    "up",
    "us",
    "we",
    "he",
    "go",
    "am",
    "vs",
    "and",
}
_MOD_SUFFIX = re.compile(r"\b([0-9]{4}[0-9FTU]|[A-V][0-9]{4})-([0-9A-Z]{2})\b")
_LCD_ID = re.compile(r"\b([LA][0-9]{5})\b")

CPT_RE = re.compile(r"^[0-9]{4}[0-9FTU]$")
HCPCS_RE = re.compile(r"^[A-V][0-9]{4}$")
CM_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:[0-9A-Z]{1,4})?$")
PCS_RE = re.compile(r"^[0-9BCDFGHX][0-9A-HJ-NP-Z]{6}$")
ICD9_BARE = re.compile(r"^(?:[0-9]{3,5}|V[0-9]{2,4}|E[0-9]{3,4})$")


@dataclass
class Mention:
    """A code-like token: `token` as written (upper case), `shapes` the code sets it could belong to."""

    token: str
    at: int
    shapes: tuple[str, ...]


# Words that name what is asked. Each intent: (pattern, weight). Patterns run on the lower-cased text.
INTENTS: dict[str, tuple[tuple[str, float], ...]] = {
    "crosswalk": (
        (
            (
                r"\bicd[- ]?9\b|\bicd9|\bgems?\b|crosswalk|\bmaps? to\b|\bmapping\b|\bconvert|\bequivalen|"
                r"\bicd[- ]?10\b.*\bfor\b"
            ),
            1.0,
        ),
    ),
    "pair": (
        (
            (
                r"\btogether\b|\bbundl|\bncci\b|\bptp\b|\bsame day\b|\bsame date\b|\bcolumn [12]\b|\bedit\b|"
                r"\bbill(?:ed)? with\b|\breport(?:ed)? with\b|\bcode "
                r"pair|\bpaired\b|\bunbundl|\bboth\b|\bwith\b"
            ),
            0.6,
        ),
    ),
    "mue": (
        (
            (r"\bunits?\b|\bmues?\b|medically unlikely|\bhow many\b|\bmaximum\b|\bmax\b|\blimit\b|\btimes\b"),
            1.0,
        ),
    ),
    "payment": (
        (
            (
                r"\bpays?\b|\bpaid\b|\bpayment|reimburs|\brvus?\b|\bfee\b|\ballowable\b|\bhow "
                r"much\b|\brate\b|"
                r"\bgpci|\blocalit|\bdollars?\b|\bprice|\bcost\b|\bworth\b|\bconversion factor\b"
            ),
            1.0,
        ),
        (
            (
                r"\bglobal (?:days?|period|surgery)\b|\bglobal\b|multiple[- ]procedure|\bbilateral\b|"
                r"\bassistant\b|\bco-?surg|\bteam surg|\bpc/?tc\b|\bstatus "
                r"(?:code|indicator)\b|\bindicators?\b"
            ),
            0.9,
        ),
    ),
    "addon": (
        ((r"\badd[- ]?on\b|\bprimary (?:codes?|procedures?|service)\b|\baddon\b|\bstand[- ]?alone\b"), 1.2),
    ),
    "modifier": (((r"\bmodifiers?\b"), 1.0),),
    "coverage": (
        (
            (
                r"\blcds?\b|\bncds?\b|\bcoverage\b|\bcovered\b|\bcover\b|\barticles?\b|medical necessity|"
                r"\blocal coverage\b|\bmac\b|\bcontractor"
            ),
            1.2,
        ),
    ),
    "guideline": (
        (
            (
                r"\bguidelines?\b|\bwhen (?:do|should|can|to|would) "
                r"(?:i|we|you)?\s*(?:use|report|append|code)|"
                r"\bwhen to\b|\bhow (?:do|should|to) (?:i |we |you "
                r")?(?:use|choose|pick|code|report|level|select|sequence)|"
                r"\brules?\b|\bplaceholder\b|\b7th character|\bseventh character|\bsequenc|\bcode first\b|"
                r"\buse additional\b|\bcode also\b|\bexcludes ?[12]?\b|\broot operations?\b|\bmdm\b|"
                r"\bmedical decision|\be/m\b|\bevaluation and management\b|\bexplain\b|"
                r"\bdifference between\b|"
                r"\bwhat (?:is|are) (?:a |an |the )?"
                r"(?:placeholder|excludes|mue|ncci|ptp|lcd|gem|rvu|gpci|global|"
                r"modifier indicator|adjudication)"
            ),
            1.0,
        ),
    ),
    "find": (
        (
            (
                r"\b(?:what|which)(?: is the)? "
                r"(?:icd[- ]?10(?:[- ]cm| pcs)?|cpt|hcpcs|diagnosis|procedure)?\s*codes?\b|"
                r"\bcodes? (?:for|of)\b|\bhow (?:do|should) (?:i|we|you) code\b|\bcode a\b|\bcoding for\b|"
                r"\bfind (?:a |the )?code"
            ),
            1.0,
        ),
    ),
    "history": (
        (
            (
                r"\bnew\b(?!\s+(?:patients?|born|onset|visits?|problems?|diagnos[a-z]*\b(?!\s+codes?)|mothers?))|"
                r"\bdelet|"
                r"\bremoved?\b|\bretired?\b|\bdiscontinued\b|\breplac|\bsuccessors?\b|\bchang|\brevis|"
                r"\bhistory\b|\bintroduced\b|\bno longer\b|\bstill (?:valid|active|in use|exist)|"
                r"\bwhat happened to\b|\bwhen was\b.*\b(?:created|made|added|introduced|deleted|retired)\b|"
                r"\bwhat did\b.*\bsay\b|\bused to\b|\blast year\b|\bupdated?s?\b"
            ),
            1.0,
        ),
    ),
    "release": (
        (
            (
                r"\bdates? of service\b|\bdos\b|\bservice dates?\b|\breleases?\b|\bversions?\b|\beditions?\b|"
                r"\bin (?:effect|force)\b|\bappl(?:y|ies)\b|\beffective\b|\bfiscal year\b|\bquarters?\b|"
                r"\bwhich (?:year|update|files?|code set|code book)\b|\bshould i use\b|\bvalid (?:on|for)\b"
            ),
            1.0,
        ),
    ),
    "facts": (
        (
            (
                r"\bwhat (?:is|does|'s)\b|\bmean(?:s|ing)?\b|\bdescri|\bbillable\b|\bvalid\b|"
                r"\bstatus\b|\bdefin|"
                r"\btitle\b|\bexcludes\b|\bnotes?\b|\bheader\b|\bspecific"
            ),
            0.5,
        ),
    ),
}
_COMPILED = {k: [(re.compile(p), w) for p, w in v] for k, v in INTENTS.items()}

CODESET_HINTS = (
    (re.compile(r"\bcpt\b"), CPT),
    (re.compile(r"\bhcpcs\b|\blevel ii\b"), HCPCS),
    (re.compile(r"\bicd[- ]?10[- ]?cm\b|\bdiagnos[ie]s\b|\bdx\b"), ICD10CM),
    (re.compile(r"\bicd[- ]?10[- ]?pcs\b|\bpcs\b"), ICD10PCS),
)
SETTING_HINTS = (
    (re.compile(r"\bhospital\b|\boutpatient\b|\bopps\b|\bfacility\b"), "hospital"),
    (re.compile(r"\bpractitioner\b|\bphysician\b|\bprofessional\b|\boffice\b|\bclinic\b"), "practitioner"),
    (re.compile(r"\bdme\b|\bsupplier\b"), "dme"),
)


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATES = (
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"), "mdy"),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b"), "Mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+(\d{{4}})\b"), "dMy"),
)
_RELEASE_NAME = re.compile(r"\bfy\s?-?(\d{4})\b|\bfiscal year\s+(\d{4})\b")


def dates_in(low: str) -> tuple[list[date], list[str], list[tuple[int, int]]]:
    """The dates a (lower-cased) question names, those written like a date that are none ("2025-02-30"),
    and where they are written (no code is read from a date)."""
    found: list[tuple[int, date | str]] = []
    taken: list[tuple[int, int]] = []
    for rx, order in _DATES:
        for m in rx.finditer(low):
            if any(not (m.end() <= a or m.start() >= b) for a, b in taken):
                continue
            taken.append((m.start(), m.end()))
            g = m.groups()
            if order == "ymd":
                y, mo, d = int(g[0]), int(g[1]), int(g[2])
            elif order == "mdy":
                mo, d, y = int(g[0]), int(g[1]), int(g[2])
            elif order == "Mdy":
                mo, d, y = _MONTH_NAMES.index(g[0][:3]) + 1, int(g[1]), int(g[2])
            else:
                d, mo, y = int(g[0]), _MONTH_NAMES.index(g[1][:3]) + 1, int(g[2])
            try:
                found.append((m.start(), date(y, mo, d)))
            except ValueError:
                found.append((m.start(), m.group(0)))
    found.sort(key=lambda x: x[0])
    return [d for _, d in found if isinstance(d, date)], [d for _, d in found if isinstance(d, str)], taken


@dataclass
class Question:
    text: str
    low: str
    mentions: list[Mention] = field(default_factory=list)
    modifiers: list[str] = field(default_factory=list)
    lcd_ids: list[str] = field(default_factory=list)
    intents: dict[str, float] = field(default_factory=dict)
    codesets: list[str] = field(default_factory=list)  # code sets the question names
    settings: list[str] = field(default_factory=list)
    context: tuple[str, str] | None = None  # (codeset, key) of the page it was asked on
    dates: list[date] = field(default_factory=list)  # dates of service named
    bad_dates: list[str] = field(default_factory=list)  # written like dates, but none ("2025-02-30")
    release_names: list[str] = field(default_factory=list)  # fiscal years named ("FY2026")

    def wants(self, intent: str) -> float:
        return self.intents.get(intent, 0.0)

    def words(self) -> str:
        """The question without its code mentions and modifiers (for word searches)."""
        out = self.text
        for m in self.mentions:
            out = re.sub(re.escape(m.token), " ", out, flags=re.IGNORECASE)
        return out


def clean(text: str) -> str:
    """Drops control characters and collapses white space (questions may come from anywhere)."""
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def shapes_of(token: str, icd9_wanted: bool) -> tuple[str, ...]:
    out: list[str] = []
    if CPT_RE.match(token):
        out.append(CPT)
    if HCPCS_RE.match(token):
        out.append(HCPCS)
    if CM_RE.match(token) and not token[:3].isdigit():
        out.append(ICD10CM)
    if PCS_RE.match(token) and any(c.isdigit() for c in token):
        out.append(ICD10PCS)
    if icd9_wanted and ICD9_BARE.match(token):
        out.append(ICD9)
    return tuple(out)


def parse(text: str, context: str | None = None) -> Question:
    """A question read once: mentions in order of appearance, intents scored, hints collected."""
    text = clean(text)
    up = text.upper()
    q = Question(text=text, low=text.lower())
    for name, patterns in _COMPILED.items():
        score = sum(w for rx, w in patterns if rx.search(q.low))
        if score:
            q.intents[name] = score
    q.codesets = [cs for rx, cs in CODESET_HINTS if rx.search(q.low)]
    q.settings = [s for rx, s in SETTING_HINTS if rx.search(q.low)]
    q.dates, q.bad_dates, date_spans = dates_in(q.low)
    q.release_names = list(dict.fromkeys(f"FY{a or b}" for a, b in _RELEASE_NAME.findall(q.low)))
    if context:
        cs, _, key = context.strip().strip("/").partition("/")
        if cs and key and len(key) <= 12:
            q.context = (cs, key.upper())
    taken: list[tuple[int, int]] = list(date_spans)
    icd9_wanted = bool(
        re.search(r"icd[- ]?9|\bgem|crosswalk|\bconvert|\bicd[- ]?10\b.*\b(?:for|of)\b", q.low)
    )

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    for m in _MOD_SUFFIX.finditer(up):  # 99213-25: the code and its modifier
        q.modifiers.append(m[2])
        taken.append((m.start(2) - 1, m.end(2)))
    for rx in (_MOD_AFTER, _MOD_BEFORE):
        for m in rx.finditer(text):
            for raw in re.findall(r"\b[0-9A-Za-z]{2}\b", m[1]):
                if raw.lower() in _WORDS and not raw.isupper():
                    continue
                tok = raw.upper()
                if tok not in q.modifiers and tok not in ("VS", "OR"):
                    q.modifiers.append(tok)
            taken.append((m.start(1), m.end(1)))
    for m in _LCD_ID.finditer(up):
        q.lcd_ids.append(m[1])
        taken.append((m.start(1), m.end(1)))
    found: list[Mention] = []
    for m in _CM_DOTTED.finditer(up):
        if free(m.start(), m.end()):
            tok = m[1] + "." + m[2]
            icd9_too = icd9_wanted and _ICD9_DOTTED.fullmatch(tok) is not None
            found.append(Mention(tok, m.start(), (ICD10CM, ICD9) if icd9_too else (ICD10CM,)))
            taken.append((m.start(), m.end()))
    for m in _ICD9_DOTTED.finditer(up):
        if free(m.start(), m.end()):
            tok = m[1]
            proc = re.fullmatch(r"[0-9]{2}\.[0-9]{1,2}", tok) is not None
            found.append(Mention(tok, m.start(), (ICD9_PROC,) if proc else (ICD9,)))
            taken.append((m.start(), m.end()))
    for m in _TOKEN.finditer(up):
        tok = m[1]
        if not free(m.start(), m.end()) or not any(c.isdigit() for c in tok):
            continue
        shapes = shapes_of(tok, icd9_wanted)
        if shapes:
            found.append(Mention(tok, m.start(), shapes))
            taken.append((m.start(), m.end()))
    q.mentions = sorted(found, key=lambda x: x.at)
    return q
