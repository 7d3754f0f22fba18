"""CasePilot in real headless Chromium against a real `coderef serve`: the box on a code page answers, the
meter counts, the allowance wall shows, re-asking works after registering, and the no-JavaScript form
works."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import browser, js_errors, new_page, run_axe, screenshot, serve  # noqa: F401 (fixtures)
from casepilot_kit import casepilot_small  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct horse battery staple"


def expect() -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect


@pytest.fixture(scope="module")
def pilot_site(casepilot_small: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:  # noqa: F811
    root = tmp_path_factory.mktemp("pilot-browser") / "proj"
    shutil.copytree(casepilot_small, root, symlinks=True)
    yield from serve(root)


def test_box_answers_counts_walls_and_answers_again_after_registering(browser: Any, pilot_site: str) -> None:  # noqa: F811
    page = new_page(browser, pilot_site)
    x = expect()
    page.goto("/icd-10-cm/S72.001A/")
    box = page.locator("section.ask-box")
    x(box.locator("h2")).to_have_text("Have a question about ICD-10-CM S72.001A?")
    x(box.locator("[data-ask-left]")).to_have_text("2 questions left today.")
    box.locator("textarea").fill("Is it billable?")
    box.get_by_role("button", name="Ask CasePilot").click()
    answer = box.locator("[data-ask-answer]")
    x(answer).to_contain_text(
        "S72.001A — Fracture of unspecified part of neck of right femur, initial encounter for closed "
         "fracture"
    )
    x(answer).to_contain_text("Billable: valid on claims.")
    x(answer.locator("a[href='/icd-10-cm/S72.001A/']").first).to_be_visible()
    x(box.locator("[data-ask-left]")).to_have_text("1 question left today.")
    screenshot(page, "casepilot-answer")

    box.locator("textarea").fill("ICD-9 code for E11.9")
    box.get_by_role("button", name="Ask CasePilot").click()
    x(answer).to_contain_text("E11.9")
    x(box.locator("[data-ask-left]")).to_have_text("0 questions left today.")

    box.locator("textarea").fill("What is E11.9?")
    box.get_by_role("button", name="Ask CasePilot").click()
    x(answer.locator(".wall")).to_contain_text("You have used your 2 free questions today")
    screenshot(page, "casepilot-wall")
    answer.get_by_role("link", name="Create free account").click()
    x(page).to_have_url(re.compile(r"/register/\?next=%2Ficd-10-cm%2FS72\.001A%2F$"))
    page.get_by_label("Email").fill("pilot-browser@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create free account").click()
    x(page).to_have_url(re.compile(r"/icd-10-cm/S72\.001A/$"))
    box = page.locator("section.ask-box")
    x(box.locator("[data-ask-left]")).to_have_text("20 questions left this month.")
    box.locator("textarea").fill("What is E11.9?")
    box.get_by_role("button", name="Ask CasePilot").click()
    x(box.locator("[data-ask-answer]")).to_contain_text("Type 2 diabetes mellitus without complications")
    x(box.locator("[data-ask-left]")).to_have_text("19 questions left this month.")
    assert [e for e in js_errors(page) if "402 (Payment Required)" not in e] == []  # the wall's answer

    # The questions left are on the account page (the script's, and the gate's without it) and /plans/,
    # and those pages pass axe under their own Content-Security-Policy.
    page.goto("/account/")
    x(page.locator("[data-account-user] [data-ask-left]")).to_have_text("19 questions left this month.")
    assert run_axe(page) == []
    page.goto("/gate/account")
    x(page.locator("[data-ask-left]")).to_have_text("19 questions left this month.")
    assert run_axe(page) == []
    page.goto("/plans/")
    x(page.locator("[data-ask-left]")).to_have_text("19 questions left this month.")
    x(page.locator("article[data-plan=free]")).to_contain_text("20 CasePilot questions a month")
    assert run_axe(page) == []


def test_casepilot_page_examples_and_accessibility(browser: Any, pilot_site: str) -> None:  # noqa: F811
    page = new_page(browser, pilot_site)  # axe runs under the page's own Content-Security-Policy
    x = expect()
    page.goto("/casepilot/")
    x(page.locator(".ask-topics")).to_contain_text(
        "CPT Codes · Guidelines · Modifiers · Crosswalks · NCCI Edits · Compliance · Medicare Coverage"
    )
    page.get_by_role("button", name="What is a placeholder X?").click()
    x(page.locator("[data-ask-answer]")).to_contain_text("placeholder X")
    x(
        page.locator(
            "[data-ask-answer] a[href^='/guides/icd-10-cm-seventh-characters-and-placeholder-x/']"
        ).first
    ).to_be_visible()
    assert run_axe(page) == []
    assert js_errors(page) == []


def test_the_form_works_without_javascript(browser: Any, pilot_site: str) -> None:  # noqa: F811
    page = new_page(browser, pilot_site, js=False)
    x = expect()
    page.goto("/icd-10-cm/E11.9/")
    box = page.locator("section.ask-box")
    box.locator("textarea").fill("What are the excludes1 notes?")
    box.get_by_role("button", name="Ask CasePilot").click()
    x(page).to_have_url(re.compile(r"/gate/ask$"))
    x(page.locator(".ask-result")).to_contain_text("Excludes1")
    x(page.locator(".ask-result")).to_contain_text("E11.9")
    x(page.locator(".ask-result .ask-left")).to_have_text("1 question left today.")
    page.locator("textarea#cp-q").fill("what is a placeholder X")
    page.locator("#cp-form button[type=submit]").click()
    x(page.locator(".ask-result")).to_contain_text("placeholder X")
    page.get_by_role("button", name="Is S72.001 billable?").click()
    x(page.locator(".wall")).to_contain_text("You have used your 2 free questions today")
    screenshot(page, "casepilot-nojs-wall")


def test_the_answer_pages_the_gate_renders_pass_axe(browser: Any, pilot_site: str) -> None:  # noqa: F811
    # axe needs JavaScript, so the form is made to post as it does without it (a copy of it has no listener).
    page = new_page(browser, pilot_site)
    x = expect()

    def post(question: str) -> None:
        page.goto("/casepilot/")
        page.locator("#cp-form").evaluate("f => f.replaceWith(f.cloneNode(true))")
        page.locator("textarea#cp-q").fill(question)
        page.locator("#cp-form button[type=submit]").click()
        x(page).to_have_url(re.compile(r"/gate/ask$"))

    post("Can 99213 and 93000 be billed together?")
    x(page.locator(".ask-result")).to_contain_text("99213")
    assert run_axe(page) == []
    post("What is E11.9?")
    post("What is E11.9?")
    x(page.locator(".wall")).to_contain_text("You have used your 2 free questions today")
    assert run_axe(page) == []
