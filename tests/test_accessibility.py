"""axe-core in real Chromium reports no violations; keyboard users get focus and the `/` search shortcut."""
from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import browser, js_errors, live_site, new_page, run_axe  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = [
    "/", "/cpt/27252/", "/icd-10-cm/S72.001A/", "/register/", "/login/", "/account/", "/jobs/",
    "/jobs/?remote=1&credential=CPC", "/jobs/inpatient-coder-example-health/", "/jobs/post/",
    "/icd-10-cm/index/diabetes/", "/icd-10-cm/neoplasm-table/letter-l/", "/icd-10-cm/drug-table/letter-a/",
    "/icd-10-pcs/0DT/", "/icd-10-pcs/index/letter-r/",
    "/plans/", "/consult/", "/casepilot/",  # the gate renders the first two
    "/search/?q=femur",
]


def test_axe_finds_no_violations(browser: Any, live_site: str) -> None:  # noqa: F811
    # One guest for all pages: the first code page unlocks, the second shows the wall — both states checked.
    page = new_page(browser, live_site)  # axe runs under the pages' own Content-Security-Policy
    found: dict[str, list[dict[str, Any]]] = {}
    theme_errors: list[str] = []
    for path in PAGES:
        if path.startswith("/search/"):  # from here on the search module runs: its own tests check its errors
            theme_errors = js_errors(page)
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if page.locator("section.premium").count():
            page.locator(
                "section.premium[data-state='open'], section.premium[data-state='wall']"
            ).first.wait_for()
        violations = run_axe(page)
        if violations:
            found[path] = violations
    assert found == {}, found
    assert theme_errors == []
    page.context.close()


def test_keyboard_skip_link_focus_ring_and_slash_shortcut(browser: Any, live_site: str) -> None:  # noqa: F811
    page = new_page(browser, live_site)
    page.goto("/hcpcs/E0601/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focus is visible"
    page.locator("h1").click()  # focus back on the page body
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    page.context.close()
