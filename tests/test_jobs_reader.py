"""Job listings: front matter validated with the file's line numbers, safe descriptions, the samples."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.errors import Problems
from generator.jobs import describe
from generator.jobs.reader import read_job, read_jobs

ROOT = Path(__file__).resolve().parents[1]
BODY = "A coding job described in enough words to pass the minimum length of a description, surely.\n" * 2

GOOD = """\
---
title: Remote Outpatient Coder
employer:
  name: Example Health
  site: https://www.example.org/
work: remote
remote_in: [US]
employment: full-time
credentials:
  required: [CPC, ccs]
  preferred: [CEDC]
setting: hospital-outpatient
experience: 2
salary: {min: 24, max: 31, currency: USD, unit: hour}
posted: 2026-11-30
valid_through: 2027-01-31
apply:
  url: https://careers.example.org/jobs/1
---
"""


def read(text: str, slug: str = "a-job") -> tuple[object, list[str]]:
    problems = Problems()
    job = read_job(text, slug, "content/jobs/a-job.md", problems)
    return job, [str(p) for p in problems.items]


def with_line(line_no: int, new: str) -> str:
    """GOOD with its line `line_no` (1-based) replaced by `new` (or removed when `new` is None)."""
    lines = GOOD.splitlines()
    lines[line_no - 1] = new
    return "\n".join(lines) + "\n" + BODY


def test_a_good_listing_reads_with_canonical_values() -> None:
    job, problems = read(GOOD + BODY)
    assert problems == []
    assert job is not None
    assert job.required == ["CPC", "CCS"] and job.preferred == ["CEDC"]  # type: ignore[attr-defined]
    assert job.remote_in == ["US"] and job.salary.unit == "hour"  # type: ignore[attr-defined]
    assert job.posted == dt.date(2026, 11, 30)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("line", "replacement", "expected"),
    [
        (2, "title: ''", "'title' must be a non-empty text"),
        (6, "work: anywhere", "'work': unknown value 'anywhere'"),
        (7, "remote_in: [US, US-ZZ]", "'remote_in': unknown value 'US-ZZ'"),
        (8, "employment: [full-time, forever]", "'employment': unknown value 'forever'"),
        (10, "  required: [CPC, XYZ]", "'credentials.required': unknown value 'XYZ'"),
        (11, "  preferred: [ABCD]", "'credentials.preferred': unknown value 'ABCD'"),
        (12, "setting: hospital", "'setting': unknown value 'hospital'"),
        (13, "experience: lots", "'experience' is the minimum years"),
        (
            14,
            "salary: {min: 40, max: 31, currency: USD, unit: hour}",
            "'salary.min' (40) is above 'salary.max' (31); swap them",
        ),
        (14, "salary: {min: 24, max: 31, currency: XXY, unit: hour}", "unknown currency"),
        (
            14,
            "salary: {min: 24, max: 31, currency: USD, unit: fortnight}",
            "'salary.unit': unknown value 'fortnight'",
        ),
        (14, "salary: {min: '24k', max: 31, unit: hour}", "'salary.min' must be a positive"),
        (15, "posted: last week", "'posted' must be a date written as YYYY-MM-DD"),
        (16, "valid_through: 2026-11-01", "'valid_through' (2026-11-01) is before 'posted' (2026-11-30)"),
        (16, "valid_through: 2028-01-01", "'valid_through' (2028-01-01) is more than"),
        (18, "  url: http://careers.example.org/jobs/1", "'apply.url' must be a full"),
        (18, "  url: javascript:alert(1)", "'apply.url' must be a full web address"),
        (18, "  email: not-an-address", "'apply.email' is not an email address"),
        (5, "  site: ftp://example.org/", "'employer.site' must be a full web address"),
    ],
)
def test_each_mistake_is_reported_at_its_line(line: int, replacement: str, expected: str) -> None:
    expected = f"content/jobs/a-job.md:{line}: error: {expected}"
    job, problems = read(with_line(line, replacement))
    assert job is None
    assert any(p.startswith(expected) for p in problems), problems


def test_missing_required_fields_are_named_at_the_start() -> None:
    job, problems = read("---\ntitle: Coder\n---\n" + BODY)
    assert job is None
    assert problems[0].startswith("content/jobs/a-job.md:1: error: missing 'employer', 'work', 'employment'")
    for key in ("setting", "salary", "posted", "valid_through", "apply"):
        assert f"'{key}'" in problems[0]


def test_arrangement_rules_name_the_work_line() -> None:
    onsite = GOOD.replace("work: remote\nremote_in: [US]\n", "work: onsite\n") + BODY
    _, problems = read(onsite)
    assert "content/jobs/a-job.md:6: error: an onsite job needs 'locations'" in "\n".join(problems)
    remote = GOOD.replace("remote_in: [US]\n", "") + BODY
    _, problems = read(remote)
    assert "content/jobs/a-job.md:6: error: a remote job needs 'remote_in'" in "\n".join(problems)


def test_locations_are_checked_item_by_item() -> None:
    text = (
        GOOD.replace(
            "work: remote\nremote_in: [US]\n",
            "work: hybrid\nlocations:\n  - {city: Columbus, state: OH}\n"
            "  - {city: Nowhere, state: QQ}\n  - {state: PA}\n",
        )
        + BODY
    )
    job, problems = read(text)
    assert job is None
    joined = "\n".join(problems)
    assert "content/jobs/a-job.md:9: error: 'QQ' is not a state of US" in joined
    assert "content/jobs/a-job.md:10: error: each location needs a 'city'" in joined


def test_broken_yaml_short_description_bad_name_and_unknown_keys() -> None:
    _, problems = read("---\ntitle: [Coder\nwork: remote\n---\n" + BODY)
    assert problems[0].startswith("content/jobs/a-job.md:2: error: invalid YAML in front matter")
    _, problems = read(GOOD + "Too short.\n")
    assert problems == [
        "content/jobs/a-job.md:20: error: the description below the front matter has 10 characters; "
        "describe the job in at least 100"
    ]
    _, problems = read(GOOD + BODY, slug="Bad_Name")
    assert "cannot be a job's address" in problems[0]
    _, problems = read(GOOD + BODY, slug="post")
    assert "'post' is reserved" in problems[0]
    job, problems = read(GOOD.replace("title:", "colour: blue\ntitle:") + BODY)
    assert job is not None
    assert problems == [
        "content/jobs/a-job.md:2: warning: unknown front matter key 'colour' is ignored "
        "(known: title, employer, sample, work, locations, remote_in, employment, credentials, "
        "specialty, setting, experience, salary, posted, valid_through, closed, apply, post)"
    ]


@pytest.mark.parametrize(
    "attack",
    [
        "<script>alert(1)</script>",
        "[click me](javascript:alert(1))",
        "[click me](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<img src=x onerror="alert(1)">',
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        '[x](https://example.org/" onmouseover="alert(1))',
        "<iframe src=https://evil.example></iframe>",
        "<svg onload=alert(1)>",
    ],
)
def test_descriptions_render_inert(attack: str) -> None:
    html = describe.render(f"Apply here: {attack} today.")
    for tag, attrs in elements(html):
        assert tag in describe.TAGS, (tag, html)
        for name, value in attrs:
            assert not name.startswith("on"), html
            if name == "href":
                assert (value or "").split(":")[0].lower() in ("http", "https", "mailto"), html


def elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """The elements a browser would build from `html` (text that only looks like a tag is not one)."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_links_keep_http_https_mailto_and_get_nofollow_ugc() -> None:
    html = describe.render(
        "[a](https://a.example/x?y=1) [b](http://b.example) [c](mailto:c@example.org) [d](/local)"
    )
    assert '<a href="https://a.example/x?y=1" rel="nofollow ugc">a</a>' in html
    assert '<a href="http://b.example" rel="nofollow ugc">b</a>' in html
    assert '<a href="mailto:c@example.org" rel="nofollow ugc">c</a>' in html
    assert "/local" in html and 'href="/local"' not in html
    assert describe.render("# Big\n\n## Duties").startswith("<h3>Big</h3>\n<h3>Duties</h3>")


def test_the_shipped_samples_read_cleanly_and_are_marked() -> None:
    problems = Problems()
    jobs = read_jobs(ROOT / "content", ROOT, problems)
    assert problems.items == []
    assert len(jobs) >= 5
    assert all(j.sample for j in jobs)
    assert all(j.employer.name.startswith("Example ") for j in jobs)
    assert {j.work for j in jobs} == {"remote", "hybrid", "onsite"}
