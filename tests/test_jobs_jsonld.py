"""Every open job page carries JobPosting JSON-LD with every property Google's job search documents
as required or recommended, in the documented shapes (ISO 8601 dates, MonetaryAmount salary,
TELECOMMUTE with applicantLocationRequirements), and the values the page itself shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import TEST_DAY, make_project
from jobs_kit import job_posting, robots_noindex

from generator.build import build
from generator.errors import Problems
from generator.jobs.reader import read_jobs

DAY = TEST_DAY
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})$"
EMPLOYMENT = ["FULL_TIME", "PART_TIME", "CONTRACTOR", "TEMPORARY", "INTERN", "VOLUNTEER", "PER_DIEM", "OTHER"]
PLACE = {
    "type": "object",
    "required": ["@type", "address"],
    "properties": {
        "@type": {"const": "Place"},
        "address": {
            "type": "object",
            "required": ["@type", "addressLocality", "addressRegion", "addressCountry"],
            "properties": {
                "@type": {"const": "PostalAddress"},
                "streetAddress": {"type": "string", "minLength": 1},
                "addressLocality": {"type": "string", "minLength": 1},
                "addressRegion": {"type": "string", "minLength": 1},
                "postalCode": {"type": "string", "minLength": 1},
                "addressCountry": {"type": "string", "pattern": "^[A-Z]{2}$"},
            },
        },
    },
}
AREA = {
    "type": "object",
    "required": ["@type", "name"],
    "properties": {"@type": {"enum": ["Country", "State", "AdministrativeArea"]}, "name": {"type": "string"}},
}
AMOUNT = {"type": "number", "exclusiveMinimum": 0}
# Google Search Central, "Job posting (JobPosting) structured data": required — datePosted, description,
# hiringOrganization, jobLocation (or, for remote work, jobLocationType TELECOMMUTE with
# applicantLocationRequirements), title; validThrough when the job expires; recommended — baseSalary,
# directApply, employmentType, identifier, applicantLocationRequirements, jobLocationType.
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "@context",
        "@type",
        "title",
        "description",
        "datePosted",
        "validThrough",
        "hiringOrganization",
        "employmentType",
        "baseSalary",
        "identifier",
    ],
    "properties": {
        "@context": {"enum": ["https://schema.org/", "https://schema.org"]},
        "@type": {"const": "JobPosting"},
        "title": {"type": "string", "minLength": 3, "maxLength": 120, "not": {"pattern": "[<>]|!!|\\$"}},
        "description": {"type": "string", "minLength": 100, "pattern": "<p>"},
        "datePosted": {"type": "string", "pattern": ISO_DATE},
        "validThrough": {"type": "string", "pattern": ISO_DATETIME},
        "employmentType": {
            "oneOf": [
                {"enum": EMPLOYMENT},
                {"type": "array", "minItems": 2, "uniqueItems": True, "items": {"enum": EMPLOYMENT}},
            ]
        },
        "hiringOrganization": {
            "type": "object",
            "required": ["@type", "name"],
            "properties": {
                "@type": {"const": "Organization"},
                "name": {"type": "string", "minLength": 1},
                "sameAs": {"type": "string", "pattern": "^https://"},
                "logo": {"type": "string", "pattern": "^https://"},
            },
        },
        "jobLocation": {"oneOf": [PLACE, {"type": "array", "minItems": 2, "items": PLACE}]},
        "jobLocationType": {"const": "TELECOMMUTE"},
        "applicantLocationRequirements": {"oneOf": [AREA, {"type": "array", "minItems": 2, "items": AREA}]},
        "baseSalary": {
            "type": "object",
            "required": ["@type", "currency", "value"],
            "properties": {
                "@type": {"const": "MonetaryAmount"},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "value": {
                    "type": "object",
                    "required": ["@type", "unitText"],
                    "properties": {
                        "@type": {"const": "QuantitativeValue"},
                        "unitText": {"enum": ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"]},
                        "value": AMOUNT,
                        "minValue": AMOUNT,
                        "maxValue": AMOUNT,
                    },
                    "oneOf": [{"required": ["value"]}, {"required": ["minValue", "maxValue"]}],
                },
            },
        },
        "directApply": {"const": True},
        "identifier": {
            "type": "object",
            "required": ["@type", "name", "value"],
            "properties": {"@type": {"const": "PropertyValue"}},
        },
        "experienceRequirements": {
            "oneOf": [
                {"const": "no requirements"},
                {
                    "type": "object",
                    "required": ["@type", "monthsOfExperience"],
                    "properties": {
                        "@type": {"const": "OccupationalExperienceRequirements"},
                        "monthsOfExperience": {"type": "integer", "minimum": 1},
                    },
                },
            ]
        },
        "educationRequirements": {
            "type": "object",
            "required": ["@type", "credentialCategory"],
            "properties": {"credentialCategory": {"const": "professional certificate"}},
        },
    },
    "anyOf": [
        {"required": ["jobLocation"]},
        {"required": ["jobLocationType", "applicantLocationRequirements"]},
    ],
    "dependentRequired": {"jobLocationType": ["applicantLocationRequirements"]},
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CODEREF_TODAY", DAY)
        root = make_project(tmp_path_factory.mktemp("jsonld") / "proj")
        build(root, quiet=True, jobs=1, search=False)
        yield root


def test_the_schema_itself_is_valid_and_catches_broken_postings() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    validator = jsonschema.Draft202012Validator(SCHEMA)
    bad = {
        "@context": "https://schema.org/",
        "@type": "JobPosting",
        "title": "Coder",
        "datePosted": "30/11/2026",
    }
    assert not validator.is_valid(bad)


def test_every_sample_job_page_has_a_valid_job_posting(built: Path) -> None:
    problems = Problems()
    jobs = read_jobs(built / "content", built, problems)
    assert jobs and not problems.items
    validator = jsonschema.Draft202012Validator(SCHEMA)
    today = dt.date.fromisoformat(DAY)
    for job in jobs:
        html = (built / "site" / "jobs" / job.slug / "index.html").read_text(encoding="utf-8")
        ld = job_posting(html)
        if not job.is_open(today):
            assert ld is None and robots_noindex(html)
            continue
        assert ld is not None, job.slug
        errors = sorted(str(e.message) for e in validator.iter_errors(ld))
        assert errors == [], (job.slug, errors)
        posted = dt.date.fromisoformat(ld["datePosted"])
        through = dt.datetime.fromisoformat(ld["validThrough"])
        assert posted == job.posted and through.date() == job.valid_through and through.date() >= posted
        value = ld["baseSalary"]["value"]
        assert value.get("minValue", value.get("value")) <= value.get("maxValue", value.get("value"))
        # What the markup says is on the page: title, employer, pay, every place.
        assert f">{ld['title']}</h1>" in html
        assert ld["hiringOrganization"]["name"] in html
        assert ld["url"] == f"https://codes.example.org/jobs/{job.slug}/"
        if job.work == "remote":
            assert ld["jobLocationType"] == "TELECOMMUTE" and ld["applicantLocationRequirements"]
        else:
            places = ld["jobLocation"] if isinstance(ld["jobLocation"], list) else [ld["jobLocation"]]
            assert {p["address"]["addressLocality"] for p in places} == {loc.city for loc in job.locations}
            assert "jobLocationType" not in ld
        assert ("directApply" in ld) == job.direct_apply
        # Samples are examples, not openings: search engines must not list them.
        assert robots_noindex(html) == job.sample


def test_listing_pages_carry_no_job_posting_markup(built: Path) -> None:
    # Google: JobPosting belongs on the page of one job, never on a list of jobs.
    for rel in ("jobs/index.html", "jobs/post/index.html", "index.html"):
        assert job_posting((built / "site" / rel).read_text(encoding="utf-8")) is None
