"""The job board in real Chromium over `coderef serve`: filters narrow the list in the browser and
the URL keeps them; the posting form works with JavaScript (inline errors, no page load) and without."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import browser, copy_project, js_errors, new_page, run_axe, screenshot, serve  # noqa: F401
from conftest import TEST_DAY
from test_jobs_gate import FORM, PASSWORD, make_editor

from generator.errors import Problems
from generator.jobs.model import Job
from generator.jobs.reader import read_jobs

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served(small_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """The small test build served by `coderef serve` from a private copy (editors are made in its
    database)."""
    root = copy_project(small_site, tmp_path_factory.mktemp("jobsbrowser") / "proj")
    for base in serve(root):
        yield root, base


@pytest.fixture(scope="module")
def live_site(served: tuple[Path, str]) -> str:
    return served[1]


def expect() -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect


def open_samples() -> list[Job]:
    """The sample listings open on the day the served site was built."""
    problems = Problems()
    day = dt.date.fromisoformat(TEST_DAY)
    jobs = [j for j in read_jobs(ROOT / "content", ROOT, problems) if j.is_open(day)]
    assert jobs and not problems.items
    return jobs


def visible(page: Any) -> set[str]:
    hrefs = page.eval_on_selector_all(
        "#job-list > li:not([hidden]) .job-card-title a", "els => els.map(a => a.getAttribute('href'))"
    )
    return {h.strip("/").split("/")[-1] for h in hrefs}


def query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_filters_narrow_the_list_and_the_url_keeps_them(browser: Any, live_site: str) -> None:  # noqa: F811
    jobs = open_samples()
    x = expect()
    page = new_page(browser, live_site)
    page.goto("/jobs/?remote=1&credential=CPC")
    chosen = [j for j in jobs if j.work == "remote" and "CPC" in j.credentials]
    want = {j.slug for j in chosen}
    x(page.locator("#jobs-status")).to_have_text(f"{len(want)} of {len(jobs)} open jobs match")
    assert visible(page) == want and len(want) >= 2
    assert page.locator("#jobs-credential").input_value() == "CPC"
    assert page.locator("#job-filters input[name=remote]").is_checked()

    # A state: remote jobs open to that state (nationwide or listing it), with the other filters kept.
    page.select_option("#jobs-state", "TX")
    want = {j.slug for j in chosen if j.anywhere_in_us() or "TX" in j.regions()}
    x(page.locator("#jobs-status")).to_have_text(f"{len(want)} of {len(jobs)} open jobs match")
    assert visible(page) == want
    assert query(page) == {"remote": ["1"], "credential": ["CPC"], "state": ["TX"]}

    # The counts beside each option say what choosing it would give with the other filters.
    hybrid = page.locator("#job-filters [data-count-for=hybrid]").inner_text()
    n_hybrid = sum(1 for j in jobs if j.work == "hybrid" and "CPC" in j.credentials and "TX" in j.regions())
    assert hybrid == f"({n_hybrid})"

    # Minimum pay (a year of full-time work), then a shared link opens the same view.
    page.uncheck("#job-filters input[name=remote]")
    page.select_option("#jobs-state", "")
    page.select_option("#jobs-credential", "")
    page.select_option("#jobs-salary", "60000")
    want = {j.slug for j in jobs if j.salary.yearly_max() >= 60000}
    assert visible(page) == want and 0 < len(want) < len(jobs)
    assert query(page) == {"salary": ["60000"]}
    shared = page.url
    other = new_page(browser, live_site)
    other.goto(shared)
    x(other.locator("#jobs-status")).to_have_text(f"{len(want)} of {len(jobs)} open jobs match")
    assert visible(other) == want
    screenshot(other, "jobs-filtered")

    # Settings and employment types; a filter nothing matches shows a way back.
    page.goto("/jobs/?setting=payer&type=contract")
    want = {j.slug for j in jobs if "payer" in j.settings and "contract" in j.employment}
    assert visible(page) == want
    page.goto("/jobs/?onsite=1&setting=payer")
    x(page.locator("#jobs-empty")).to_be_visible()
    page.locator("#jobs-empty a").click()
    assert visible(page) == {j.slug for j in jobs} and urlsplit(page.url).query == ""
    assert js_errors(page) == [] and js_errors(other) == []


def test_without_javascript_every_open_job_is_listed(browser: Any, live_site: str) -> None:  # noqa: F811
    page = new_page(browser, live_site, js=False)
    page.goto("/jobs/?remote=1&credential=CPC")
    cards = page.locator("#job-list > li")
    assert cards.count() == len(open_samples())
    assert not page.locator("#job-filters").is_visible()  # filters need the script: not offered


def fill(page: Any, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        loc = page.locator(f"form[data-job-form] [name='{name}']")
        kind = loc.first.get_attribute("type")
        if kind == "radio":
            page.check(f"form[data-job-form] [name='{name}'][value='{value}']")
        elif kind == "checkbox":
            page.check(f"form[data-job-form] [name='{name}']")
        elif loc.first.evaluate("e => e.tagName") == "SELECT":
            loc.select_option(value)
        else:
            loc.fill(value)


def register(page: Any, email: str) -> None:
    page.goto("/register/")
    page.fill("#reg-email", email)
    page.fill("#reg-password", PASSWORD)
    page.click("form[data-auth-form] button[type=submit]")
    page.wait_for_url(lambda url: "/register/" not in url)


def test_posting_form_with_javascript(browser: Any, live_site: str) -> None:  # noqa: F811
    x = expect()
    page = new_page(browser, live_site)
    register(page, "js-poster@example.org")
    page.goto("/jobs/post/")
    x(page.locator("p.signed-out-note")).to_be_hidden()  # logged in: no "log in first" note
    page.click("form[data-job-form] button[type=submit]")  # empty: errors inline, no page load
    x(page.locator("#jf-title-error")).to_have_text("Enter the job title.")
    assert page.locator("#jf-title").get_attribute("aria-invalid") == "true"
    assert "jf-title-error" in (page.locator("#jf-title").get_attribute("aria-describedby") or "")
    x(page.locator("[data-form-error]")).to_contain_text("fields marked below")
    assert page.url.endswith("/jobs/post/")
    fill(page, FORM)
    page.click("form[data-job-form] button[type=submit]")
    x(page.locator(".job-posted")).to_contain_text("waits for an editor's review")
    assert page.url.endswith("/jobs/post/")
    page.goto("/gate/jobs/mine")
    x(page.locator(".post-item")).to_contain_text("Remote HCC Coder")
    # The refused first attempt is a 400 answer, which Chromium logs; nothing else may be.
    assert [e for e in js_errors(page) if "status of 400 (Bad Request)" not in e] == []


def test_posting_form_without_javascript(browser: Any, live_site: str) -> None:  # noqa: F811
    x = expect()
    page = new_page(browser, live_site, js=False)
    register(page, "nojs-poster@example.org")
    page.goto("/jobs/post/")
    fill(page, {**FORM, "salary_min": "50", "salary_max": "30"})
    page.click("form[data-job-form] button[type=submit]")
    x(page.locator("#jf-salary-min-error")).to_contain_text("swap them")  # the gate's page, the fields kept
    assert page.locator("#jf-title").input_value() == FORM["title"]
    assert page.locator("form[data-job-form] [name='setting_payer']").is_checked()
    page.fill("#jf-salary-min", "28")
    page.fill("#jf-salary-max", "34.50")
    page.click("form[data-job-form] button[type=submit]")
    page.wait_for_url(re.compile(r"/gate/jobs/mine\?posted=\d+$"))
    x(page.locator(".notice")).to_contain_text("waits for an editor's review")
    x(page.locator(".post-item").first).to_contain_text("Waiting for review")
    screenshot(page, "jobs-posted-nojs")


def test_editor_approves_on_the_web_and_the_gate_pages_pass_axe(
    browser: Any,  # noqa: F811
    served: tuple[Path, str],
) -> None:
    root, base = served
    x = expect()
    poster = new_page(browser, base, bypass_csp=True)
    # Without the page script the form posts to the gate, which answers with its own page.
    poster.route(re.compile(r"/assets/jobs\.[0-9a-f]+\.js$"), lambda route: route.abort())
    register(poster, "axe-poster@example.org")
    poster.goto("/jobs/post/")
    fill(poster, {**FORM, "apply_email": "not an address"})
    poster.click("form[data-job-form] button[type=submit]")
    x(poster.locator("#jf-apply-email-error")).to_be_visible()
    assert run_axe(poster) == []
    poster.fill("#jf-apply-email", FORM["apply_email"])
    poster.click("form[data-job-form] button[type=submit]")
    poster.wait_for_url(re.compile(r"/gate/jobs/mine"))
    assert run_axe(poster) == []

    editor = new_page(browser, base, bypass_csp=True)
    register(editor, "axe-editor@example.org")
    make_editor(root, "axe-editor@example.org")
    editor.goto("/gate/jobs/queue")
    item = editor.locator(".post-item", has_text="Remote HCC Coder").last
    x(item).to_contain_text("Texas, Florida")
    assert run_axe(editor) == []
    item.locator("button", has_text="Approve and publish").click()
    x(editor.locator(".notice")).to_contain_text("Published.", timeout=60_000)
    editor.goto("/jobs/")
    card = editor.locator("#job-list > li", has_text="Remote HCC Coder")
    x(card).to_have_count(1)
    assert card.get_attribute("data-states") == "FL TX" and card.get_attribute("data-work") == "remote"
    card.locator("a").click()
    x(editor.locator("h1")).to_have_text("Remote HCC Coder")
    assert run_axe(editor) == []
    poster.goto("/gate/jobs/mine")
    x(poster.locator(".post-item").first).to_contain_text("Published")


def test_jobs_are_found_in_the_site_search_under_their_own_filter(browser: Any, live_site: str) -> None:  # noqa: F811
    x = expect()
    page = new_page(browser, live_site)
    page.goto("/search/?q=risk+adjustment+coder")
    hit = page.locator("#search-page-results li", has_text="Risk Adjustment Coder (HCC)")
    x(hit).to_have_count(1)
    x(hit.locator(".search-set")).to_have_text("Jobs")
    chip = page.locator("#search-page-chips button[data-codeset=jobs]")
    x(chip).to_contain_text("Jobs")
    chip.click()
    assert query(page) == {"q": ["risk adjustment coder"], "codeset": ["jobs"]}
    x(hit).to_have_count(1)
    sets = page.locator("#search-page-results li .search-set").all_inner_texts()
    assert sets and set(sets) == {"Jobs"}  # under the filter: jobs only
    hit.locator("a").click()
    page.wait_for_url("**/jobs/risk-adjustment-coder-example-health-plan/")
    x(page.locator("h1")).to_have_text("Risk Adjustment Coder (HCC), Contract")
    assert js_errors(page) == []
