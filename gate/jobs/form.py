"""The posting form: submitted fields -> a listing's front matter and description, or errors by field.

The form's own checks give the messages a person filling it in needs; the listing is then read by
the build's own reader (`generator.jobs.reader`), so a post passes exactly the checks a listing file
does, and anything that reader refuses is shown beside the field it came from.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from generator.errors import Problems
from generator.jobs import fields, reader, vocab
from generator.jobs.files import listing_text
from generator.jobs.model import Job

DEFAULT_DAYS = 30
MAX_DAYS = 90
DESCRIPTION_MAX = 10_000
TEXT_FIELDS = (
    "title",
    "employer_name",
    "employer_site",
    "work",
    "locations",
    "remote_in",
    "credentials_required",
    "credentials_preferred",
    "specialty",
    "experience",
    "salary_min",
    "salary_max",
    "salary_unit",
    "salary_currency",
    "description",
    "apply_url",
    "apply_email",
    "valid_through",
)
# What a listing key (or key.sub) of the reader's messages is called on the form.
_FIELD_OF = {
    "title": "title",
    "employer": "employer_name",
    "employer.name": "employer_name",
    "employer.site": "employer_site",
    "work": "work",
    "locations": "locations",
    "remote_in": "remote_in",
    "employment": "employment",
    "credentials": "credentials_required",
    "credentials.required": "credentials_required",
    "credentials.preferred": "credentials_preferred",
    "specialty": "specialty",
    "setting": "setting",
    "experience": "experience",
    "salary": "salary_min",
    "salary.min": "salary_min",
    "salary.max": "salary_max",
    "salary.unit": "salary_unit",
    "salary.currency": "salary_currency",
    "posted": "valid_through",
    "valid_through": "valid_through",
    "apply": "apply_url",
    "apply.url": "apply_url",
    "apply.email": "apply_email",
}
_LOCATION = re.compile(r"^(?P<city>[^,]{1,80}),\s*(?P<state>[A-Za-z]{2})(?:\s+(?P<zip>\d{5}(?:-\d{4})?))?$")


@dataclass
class Parsed:
    front: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    def bad(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


def clean(raw: dict[str, str]) -> dict[str, str]:
    """The fields the form knows, as submitted (control characters dropped); others are ignored."""
    out: dict[str, str] = {}
    for name, value in raw.items():
        known = (
            name in TEXT_FIELDS
            or name in ("employment", "setting")
            or (name.startswith("employment_") and name[11:] in vocab.EMPLOYMENT)
            or (name.startswith("setting_") and name[8:] in vocab.SETTINGS)
        )
        if known:
            out[name] = "".join(c for c in value if c in "\n\t" or ord(c) >= 32).replace("\r\n", "\n")
    return out


def _one_line(v: dict[str, str], name: str) -> str:
    return " ".join(v.get(name, "").split())


def _words(text: str) -> list[str]:
    return [w for w in (p.strip() for p in re.split(r"[,;\n]", text)) if w]


def _chosen(v: dict[str, str], name: str, options: dict[str, Any]) -> list[str]:
    """Checkboxes `name_<option>` (the HTML form) or a comma list in `name` (JSON callers)."""
    picked = [k for k in options if v.get(f"{name}_{k}")]
    picked += [w.lower() for w in _words(v.get(name, "")) if w.lower() not in picked]
    return picked


def _number(p: Parsed, v: dict[str, str], name: str, what: str) -> float | None:
    raw = v.get(name, "").strip().replace(",", "").lstrip("$")
    if not raw:
        p.bad(name, f"Enter the {what}, e.g. 52000 a year or 24.50 an hour.")
        return None
    try:
        value = float(raw)
    except ValueError:
        p.bad(name, f"The {what} must be a number such as 52000 or 24.50.")
        return None
    if not 0 < value < 10_000_000:
        p.bad(name, f"The {what} must be more than 0.")
        return None
    return value


def parse(v: dict[str, str], day: dt.date) -> Parsed:
    """The listing a form describes, posted on `day`; `errors` is empty when it is valid."""
    p = Parsed()
    for name, what, limit in (("title", "job title", fields.TITLE_MAX), ("employer_name", "employer", 200)):
        text = _one_line(v, name)
        if not text:
            p.bad(name, f"Enter the {what}.")
        elif len(text) > limit:
            p.bad(name, f"Shorten the {what} to at most {limit} characters.")
    employer: dict[str, Any] = {"name": _one_line(v, "employer_name")}
    if _one_line(v, "employer_site"):
        employer["site"] = _one_line(v, "employer_site")
    work = _one_line(v, "work").lower()
    if work not in vocab.WORK:
        p.bad("work", "Choose on-site, hybrid or remote.")
    front: dict[str, Any] = {"title": _one_line(v, "title"), "employer": employer, "work": work}
    if work in ("onsite", "hybrid"):
        front["locations"] = _locations(p, v.get("locations", ""))
    if work == "remote":
        front["remote_in"] = _remote(p, _one_line(v, "remote_in"))
    front["employment"] = _chosen(v, "employment", vocab.EMPLOYMENT)
    if not front["employment"]:
        p.bad("employment", "Choose at least one employment type.")
    required, preferred = (
        _words(v.get("credentials_required", "")),
        _words(v.get("credentials_preferred", "")),
    )
    credentials = {k: words for k, words in (("required", required), ("preferred", preferred)) if words}
    if credentials:
        front["credentials"] = credentials
    specialty = _words(v.get("specialty", ""))
    if specialty:
        front["specialty"] = specialty
    front["setting"] = _chosen(v, "setting", vocab.SETTINGS)
    if not front["setting"]:
        p.bad("setting", "Choose at least one setting.")
    if v.get("experience", "").strip():
        raw = v["experience"].strip()
        if not raw.isdigit() or int(raw) > 40:
            p.bad("experience", "Enter the years of experience as a whole number from 0 to 40.")
        else:
            front["experience"] = int(raw)
    low, high = _number(p, v, "salary_min", "lowest pay"), _number(p, v, "salary_max", "highest pay")
    if low is not None and high is not None and low > high:
        p.bad("salary_min", "The lowest pay is above the highest pay; swap them.")
    unit = _one_line(v, "salary_unit").lower() or "year"
    currency = _one_line(v, "salary_currency").upper() or "USD"
    front["salary"] = {
        "min": _int_if_whole(low),
        "max": _int_if_whole(high),
        "currency": currency,
        "unit": unit,
    }
    front["posted"] = day
    front["valid_through"] = _through(p, _one_line(v, "valid_through"), day)
    apply: dict[str, Any] = {}
    if _one_line(v, "apply_url"):
        apply["url"] = _one_line(v, "apply_url")
    if _one_line(v, "apply_email"):
        apply["email"] = _one_line(v, "apply_email")
    if not apply:
        p.bad("apply_url", "Give the https:// address where candidates apply, or an email address.")
    front["apply"] = apply
    p.front = front
    p.description = v.get("description", "").strip()
    if len(p.description) > DESCRIPTION_MAX:
        p.bad("description", f"Shorten the description to at most {DESCRIPTION_MAX:,} characters.")
    return p


def _int_if_whole(x: float | None) -> float | int | None:
    return int(x) if x is not None and x == int(x) else x


def _locations(p: Parsed, text: str) -> list[dict[str, str]]:
    out = []
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        m = _LOCATION.match(line)
        if m is None:
            p.bad(
                "locations",
                f"Write each location as City, ST (and an optional ZIP code); '{line[:60]}' is not.",
            )
            continue
        loc = {"city": m["city"].strip(), "state": m["state"].upper()}
        if m["zip"]:
            loc["postal_code"] = m["zip"]
        out.append(loc)
    if not out and "locations" not in p.errors:
        p.bad("locations", "Give the city and state of an on-site or hybrid job, e.g. Columbus, OH.")
    return out[:10]


def _remote(p: Parsed, text: str) -> list[str]:
    codes = []
    for word in _words(text.replace(" ", ",")):
        code = word.upper()
        if code in ("US", "USA"):
            codes.append("US")
        elif len(code) == 2 and vocab.region_name("US", code):
            codes.append(f"US-{code}")
        else:
            p.bad(
                "remote_in",
                f"'{word[:20]}' is not a US state abbreviation; write US or states such as OH, PA.",
            )
    if not codes and "remote_in" not in p.errors:
        p.bad(
            "remote_in", "Say where remote workers may live: US for anywhere in the United States, or states."
        )
    return list(dict.fromkeys(codes))


def _through(p: Parsed, raw: str, day: dt.date) -> dt.date:
    if not raw:
        return day + dt.timedelta(days=DEFAULT_DAYS)
    try:
        through = dt.date.fromisoformat(raw)
    except ValueError:
        p.bad("valid_through", "Enter the closing date as YYYY-MM-DD.")
        return day + dt.timedelta(days=DEFAULT_DAYS)
    if through < day:
        p.bad("valid_through", "The closing date has passed; choose a later one.")
    elif through > day + dt.timedelta(days=MAX_DAYS):
        p.bad(
            "valid_through",
            f"Keep a job open at most {MAX_DAYS} days; post it again when it is still open then.",
        )
    return through


def check(p: Parsed, slug: str = "job-post") -> Job | None:
    """Reads the listing the form makes with the build's reader; adds its problems to the form's
    errors. Returns the listing when it is valid."""
    if p.errors:
        return None
    text = listing_text(p.front, p.description, "")
    problems = Problems()
    job = reader.read_job(text, slug, "post", problems)
    for problem in problems.errors:
        p.bad(_field_of(text, problem.line, problem.message), _sentence(problem.message))
    return job if not p.errors else None


def _field_of(text: str, line: int, message: str) -> str:
    """The form field a reader's message at `line` of the listing text is about."""
    named = re.findall(r"'([a-z_]+(?:\.[a-z_]+)?)'", message)
    for key in named:
        if key in _FIELD_OF:
            return _FIELD_OF[key]
    lines = text.splitlines()
    for i in range(min(line, len(lines)) - 1, 0, -1):  # the top-level key the line belongs to
        m = re.match(r"^([a-z_]+):", lines[i])
        if m:
            return _FIELD_OF.get(m.group(1), "form")
    return "description" if "description" in message else "form"


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
