"""What the job templates show: each listing as words (pay, place, dates) and the filter facets."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from ..render import Ctx
from . import jsonld, vocab
from .model import Job, Salary

SALARY_STEPS = (30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 100_000)
SYMBOLS = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£", "AUD": "A$", "INR": "₹"}


def money(amount: float, currency: str) -> str:
    cents = amount != int(amount)
    text = f"{amount:,.2f}" if cents else f"{amount:,.0f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def pay(s: Salary) -> str:
    """ "$24–$31 an hour", "$62,000–$78,000 a year"."""
    unit = vocab.PAY_UNITS[s.unit][0]
    article = "an" if unit == "hour" else "a"
    amount = (
        money(s.min, s.currency)
        if s.min == s.max
        else f"{money(s.min, s.currency)}–{money(s.max, s.currency)}"
    )
    return f"{amount} {article} {unit}"


def day(d: dt.date) -> str:
    return f"{d.day} {d:%B %Y}"


def remote_area(job: Job) -> str:
    names = []
    for code in job.remote_in:
        country, _, region = code.partition("-")
        names.append(vocab.region_name(country, region) if region else vocab.country_name(country))
    return ", ".join(n or "?" for n in names)


def where(job: Job) -> str:
    """One line: "Remote (United States)", "Hybrid · Columbus, OH", "On-site · Denver, CO; Aurora, CO"."""
    if job.work == "remote":
        return f"Remote ({remote_area(job)})"
    return f"{vocab.WORK[job.work]} · {'; '.join(loc.label for loc in job.locations)}"


def experience(job: Job) -> str:
    if job.experience is None:
        return ""
    if job.experience == 0:
        return "No experience required"
    return f"{job.experience}+ {'year' if job.experience == 1 else 'years'}"


def card(job: Job, today: dt.date) -> Ctx:
    """A listing as the list and the job page show it, with the attributes the filters read."""
    usd = job.salary.currency == "USD"
    return Ctx(
        {
            "slug": job.slug,
            "url": job.url,
            "title": job.title,
            "employer": job.employer.name,
            "employer_site": job.employer.site or "",
            "employer_logo": job.employer.logo or "",
            "work": job.work,
            "work_label": vocab.WORK[job.work],
            "where": where(job),
            "locations": [loc.label for loc in job.locations],
            "remote_area": remote_area(job) if job.work == "remote" else "",
            "employment": ", ".join(vocab.EMPLOYMENT[e][0] for e in job.employment),
            "pay": pay(job.salary),
            "required": job.required,
            "preferred": job.preferred,
            "qualifications": jsonld.qualifications(job),
            "settings": [vocab.SETTINGS[s] for s in job.settings],
            "specialty": ", ".join(job.specialty),
            "experience": experience(job),
            "posted": job.posted.isoformat(),
            "posted_label": day(job.posted),
            "valid_through": job.valid_through.isoformat(),
            "valid_through_label": day(job.valid_through),
            "apply_url": job.apply_url or "",
            "apply_email": job.apply_email or "",
            "sample": job.sample,
            "open": job.is_open(today),
            "description_html": job.description_html,
            "summary": job.description_text[:155].rsplit(" ", 1)[0] + "…"
            if len(job.description_text) > 156
            else job.description_text,
            # Filter attributes (jobs.js): space-separated tokens, yearly pay in US dollars.
            "data_credentials": " ".join(job.credentials),
            "data_states": " ".join(job.regions()),
            "data_us": "1" if job.anywhere_in_us() else "",
            "data_settings": " ".join(job.settings),
            "data_types": " ".join(job.employment),
            "data_pay": f"{job.salary.yearly_max():.0f}" if usd else "",
        }
    )


def _us_states() -> list[tuple[str, str]]:
    """(code, name) of the states, DC and the territories, by name; not the uninhabited minor islands."""
    subs = [
        (code[3:], name)
        for code, name in vocab.subdivisions().items()
        if code.startswith("US-") and code != "US-UM"
    ]
    return sorted(subs, key=lambda p: p[1])


def facets(jobs: list[Job]) -> Ctx:
    """The filter options with the number of open jobs each matches when it is the only filter."""
    work = Counter(j.work for j in jobs)
    creds = Counter(c for j in jobs for c in j.credentials)
    settings = Counter(s for j in jobs for s in j.settings)
    types = Counter(t for j in jobs for t in j.employment)
    us_wide = sum(1 for j in jobs if j.anywhere_in_us())
    states = Counter(s for j in jobs if not j.anywhere_in_us() for s in j.regions())
    pays = [j.salary.yearly_max() for j in jobs if j.salary.currency == "USD"]

    def opts(pairs: list[tuple[str, str]], counts: Counter[str] | dict[str, int]) -> list[Ctx]:
        return [Ctx({"value": v, "label": label, "count": counts.get(v, 0)}) for v, label in pairs]

    return Ctx(
        {
            "total": len(jobs),
            "work": opts(list(vocab.WORK.items()), work),
            "credentials": opts([(c, c) for c in vocab.CREDENTIALS if creds.get(c)], creds),
            "states": opts(_us_states(), {code: states.get(code, 0) + us_wide for code, _ in _us_states()}),
            "settings": opts([(k, v) for k, v in vocab.SETTINGS.items() if settings.get(k)], settings),
            "types": opts([(k, v[0]) for k, v in vocab.EMPLOYMENT.items() if types.get(k)], types),
            "salaries": opts(
                [(str(n), f"{money(n, 'USD')}+ a year") for n in SALARY_STEPS],
                {str(n): sum(1 for p in pays if p >= n) for n in SALARY_STEPS},
            ),
        }
    )


def context(job: Job, today: dt.date, canonical: str) -> dict[str, Any]:
    """The job page's own variables: the card, and the JSON-LD while the job is open."""
    view = card(job, today)
    return {
        "job": view,
        "jsonld": jsonld.script(jsonld.job_posting(job, canonical)) if view["open"] else "",
        "noindex": job.sample or not view["open"],
    }


def form_options() -> Ctx:
    """The choices of the posting form."""
    return Ctx(
        {
            "work": list(vocab.WORK.items()),
            "employment": [(k, v[0]) for k, v in vocab.EMPLOYMENT.items()],
            "settings": list(vocab.SETTINGS.items()),
            "units": [(k, v[0]) for k, v in vocab.PAY_UNITS.items()],
        }
    )


EMPTY_FORM: dict[str, Any] = {
    "employment": [],
    "setting": [],
    "salary_unit": "year",
    "salary_currency": "USD",
}
