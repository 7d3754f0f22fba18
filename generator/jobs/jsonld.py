"""schema.org `JobPosting` JSON-LD for a job page, with every property Google's job search requires
or recommends (title, description, datePosted, validThrough, employmentType, hiringOrganization,
jobLocation and/or jobLocationType TELECOMMUTE with applicantLocationRequirements, baseSalary,
identifier, directApply where true) and the experience and education properties it reads too."""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from . import vocab
from .model import Job


def _number(x: float) -> float | int:
    return int(x) if x == int(x) else x


def _address(job: Job) -> list[dict[str, Any]]:
    places = []
    for loc in job.locations:
        address: dict[str, Any] = {"@type": "PostalAddress"}
        if loc.street:
            address["streetAddress"] = loc.street
        address["addressLocality"] = loc.city
        if loc.state:
            address["addressRegion"] = loc.state
        if loc.postal_code:
            address["postalCode"] = loc.postal_code
        address["addressCountry"] = loc.country
        places.append({"@type": "Place", "address": address})
    return places


def _area(code: str) -> dict[str, str]:
    if "-" in code:
        country, _, region = code.partition("-")
        return {"@type": "State", "name": vocab.region_name(country, region) or code}
    return {"@type": "Country", "name": vocab.country_name(code) or code}


def _one_or_many(items: list[Any]) -> Any:
    return items[0] if len(items) == 1 else items


def qualifications(job: Job) -> str:
    """The credentials sentence shown on the page and given as `qualifications`."""
    parts = []
    if job.required:
        names = job.required
        parts.append(
            (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]) + " required"
        )
    if job.preferred:
        parts.append(", ".join(job.preferred) + " preferred")
    return "; ".join(parts)


def job_posting(job: Job, canonical: str) -> dict[str, Any]:
    """The JobPosting object of an open job."""
    org: dict[str, Any] = {"@type": "Organization", "name": job.employer.name}
    if job.employer.site:
        org["sameAs"] = job.employer.site
    if job.employer.logo:
        org["logo"] = job.employer.logo
    ld: dict[str, Any] = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": job.title,
        "description": job.description_html,
        "identifier": {"@type": "PropertyValue", "name": job.employer.name, "value": job.slug},
        "datePosted": job.posted.isoformat(),
        "validThrough": f"{job.valid_through.isoformat()}T23:59:59+00:00",
        "employmentType": _one_or_many([vocab.EMPLOYMENT[e][1] for e in job.employment]),
        "hiringOrganization": org,
        "url": canonical,
    }
    places = _address(job)
    if places:
        ld["jobLocation"] = _one_or_many(places)
    if job.work == "remote":
        ld["jobLocationType"] = "TELECOMMUTE"
        ld["applicantLocationRequirements"] = _one_or_many([_area(c) for c in job.remote_in])
    s = job.salary
    value: dict[str, Any] = {"@type": "QuantitativeValue", "unitText": vocab.PAY_UNITS[s.unit][1]}
    if s.min == s.max:
        value["value"] = _number(s.min)
    else:
        value["minValue"] = _number(s.min)
        value["maxValue"] = _number(s.max)
    ld["baseSalary"] = {"@type": "MonetaryAmount", "currency": s.currency, "value": value}
    if job.direct_apply:
        ld["directApply"] = True
    if job.experience is not None:
        ld["experienceRequirements"] = (
            {"@type": "OccupationalExperienceRequirements", "monthsOfExperience": job.experience * 12}
            if job.experience
            else "no requirements"
        )
    if job.required:
        ld["educationRequirements"] = {
            "@type": "EducationalOccupationalCredential",
            "credentialCategory": "professional certificate",
        }
    quals = qualifications(job)
    if quals:
        ld["qualifications"] = quals
    if job.specialty:
        ld["skills"] = ", ".join(job.specialty)
    return ld


def script(data: dict[str, Any]) -> Markup:
    """The JSON as safe text inside <script type="application/ld+json">: no `<` survives unescaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
