"""The register-to-unlock story in real Chromium against a real `coderef serve` over the small test build."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import browser, js_errors, live_site, new_page, screenshot, serve  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "correct horse battery staple"
CPT_TEXT = "The anesthesia must be documented"  # from content/codes/cpt/27252.md, a protected section
OPEN = "section.premium[data-state='open']"

# CLS of the page load: blocks reserve their space, so filling them in must not shake the page.
CLS_JS = """() => new Promise(resolve => {
  let cls = 0;
  new PerformanceObserver(list => { \
for (const e of list.getEntries()) if (!e.hadRecentInput) cls += e.value; })
    .observe({type: 'layout-shift', buffered: true});
  setTimeout(() => resolve(cls), 200);
})"""


def expect() -> Any:
    from playwright.sync_api import expect as pw_expect

    return pw_expect


def meter(page: Any) -> Any:
    return page.locator("#meter .meter-text")


def assert_unlocked(page: Any) -> None:
    """Every protected block of the page is filled with the gate's HTML (no wall left)."""
    blocks = page.locator("section.premium")
    n = blocks.count()
    assert n > 0, "a code page of the test build has protected sections"
    expect()(page.locator(OPEN)).to_have_count(n)
    assert page.locator("section.premium .wall").count() == 0


def assert_wall(page: Any, title: str) -> None:
    blocks = page.locator("section.premium")
    expect()(page.locator("section.premium[data-state='wall']")).to_have_count(blocks.count())
    expect()(blocks.first.locator(".wall-title")).to_have_text(title)


def test_guest_unlocks_one_page_registers_and_comes_back(browser: Any, live_site: str) -> None:  # noqa: F811
    page = new_page(browser, live_site)
    x = expect()

    # A guest opens a CPT demo page: its protected sections are filled in place, the view is spent.
    page.goto("/cpt/27252/")
    assert_unlocked(page)
    x(page.locator("#s-coding-tips")).to_contain_text(CPT_TEXT)
    x(meter(page)).to_contain_text("0 code page views remaining")
    x(meter(page)).to_contain_text(
        "Guest accounts are limited to 1 page view. Register free account to get 5 more views."
    )
    x(page.locator("h1")).to_have_text(re.compile(r"^CPT® 27252$"))
    cls = page.evaluate(CLS_JS)
    assert cls < 0.1, f"cumulative layout shift {cls:.3f} while the page loaded and unlocked"
    screenshot(page, "code-page-desktop")
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "no sideways scrolling at 360 px"
    screenshot(page, "code-page-360")
    page.set_viewport_size({"width": 1280, "height": 900})

    # A second code page: the register wall, and the meter says why.
    page.goto("/icd-10-cm/S72.001A/")
    assert_wall(page, "Register to view content")
    # generator/wording.py: the seed's words.
    x(page.locator("section.premium .wall-text").first).to_have_text(
        "You have used your free code page view. Register free account to get 5 more views."
    )
    x(meter(page)).to_contain_text("0 code page views remaining")
    screenshot(page, "wall-guest")

    # Registering: a weak password is refused with an inline error, then it works and returns here.
    page.locator("section.premium").first.get_by_role("link", name="Create free account").click()
    x(page).to_have_url(re.compile(r"/register/\?next=%2Ficd-10-cm%2FS72\.001A%2F$"))
    page.get_by_label("Email").fill("story@example.org")
    page.get_by_label("Password", exact=True).fill("abc12345")
    page.get_by_role("button", name="Create free account").click()
    # The gate answers the refused post with the form again, the message at the field.
    x(page).to_have_url(re.compile(r"/gate/register$"))
    x(page.locator("#reg-password-error")).to_contain_text("too common")
    x(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")
    x(page.get_by_label("Email")).to_have_value("story@example.org")
    screenshot(page, "register-error")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create free account").click()
    x(page).to_have_url(re.compile(r"/icd-10-cm/S72\.001A/$"))
    assert_unlocked(page)
    # 6 in all: the guest's 1 and this one spent.
    x(meter(page)).to_contain_text("4 code page views remaining")
    x(page.locator(".account-nav [data-session-email]")).to_have_text("story@example.org")
    x(page.get_by_role("button", name="Log out")).to_be_visible()

    # Four more new codes use up the free allowance; the fifth shows the upgrade wall.
    for code in ("S72.001D", "S72.002A", "S73.014A", "E11.9"):
        page.goto(f"/icd-10-cm/{code}/")
        assert_unlocked(page)
    x(meter(page)).to_contain_text("0 code page views remaining")
    x(meter(page)).to_contain_text("Free accounts are limited to 6 page views.")
    page.goto("/hcpcs/E0601/")
    assert_wall(page, "Upgrade to view content")
    screenshot(page, "wall-free")

    # An already unlocked code stays readable at no cost.
    page.goto("/icd-10-cm/S72.001A/")
    assert_unlocked(page)

    # Logging out shows the wall again; logging back in (after a wrong password) restores the unlocked codes.
    page.get_by_role("button", name="Log out").click()
    x(page).to_have_url(re.compile(r"/icd-10-cm/S72\.001A/$"))
    assert_wall(page, "Register to view content")
    x(page.locator(".account-nav").get_by_role("link", name="Log in")).to_be_visible()
    page.locator(".account-nav").get_by_role("link", name="Log in").click()
    page.get_by_label("Email").fill("story@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    x(page.locator("[data-form-error]")).to_contain_text("Wrong email or password")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    x(page).to_have_url(re.compile(r"/icd-10-cm/S72\.001A/$"))
    assert_unlocked(page)

    # The account page lists what was unlocked.
    page.goto("/account/")
    x(page.locator("[data-account-unlocked]")).to_contain_text("S73.014A")
    x(page.locator("[data-account-used]")).to_have_text("6 of 6")
    screenshot(page, "account")
    assert js_errors(page) == []
    page.context.close()


def test_story_without_javascript(browser: Any, live_site: str) -> None:  # noqa: F811
    page = new_page(browser, live_site, js=False)
    x = expect()

    # The static page links each protected block to the gate's server-rendered page.
    page.goto("/cpt/27252/")
    wall = page.locator("#s-coding-tips .wall")
    x(wall).to_contain_text("Register to view content")
    screenshot(page, "nojs-code-page")
    wall.get_by_role("link", name="View this section").click()
    x(page).to_have_url(re.compile(r"/gate/page/cpt/27252/"))
    page.locator("#s-coding-tips").get_by_role("button", name="Unlock (uses 1 of 1 views)").click()
    x(page).to_have_url(re.compile(r"/gate/page/cpt/27252/"))
    x(page.locator("#s-coding-tips")).to_contain_text(CPT_TEXT)
    screenshot(page, "nojs-unlocked")

    # The guest's one view is spent: the next code's gate page shows the wall.
    page.goto("/icd-10-cm/S72.001A/")
    page.locator("section.premium").first.get_by_role("link", name="View this section").click()
    x(page).to_have_url(re.compile(r"/gate/page/icd-10-cm/S72\.001A/"))
    x(page.locator("section.premium").first).to_contain_text("Register")
    screenshot(page, "nojs-wall")

    # Registering works with a plain form post; the gate page then shows the sections.
    page.goto("/register/?next=/gate/page/icd-10-cm/S72.001A/")
    page.get_by_label("Email").fill("nojs@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create free account").click()
    page.goto("/gate/page/icd-10-cm/S72.001A/")
    blocks = page.locator("section.premium")
    assert blocks.count() > 0
    x(blocks.first.locator(".wall")).to_have_count(0)
    assert page.locator("section.premium .wall").count() == 0
    page.context.close()


def test_code_page_on_a_phone_neither_shifts_nor_scrolls_sideways(browser: Any, live_site: str) -> None:  # noqa: F811
    page = new_page(browser, live_site, width=360, height=740)
    page.goto("/hcpcs/G0008/")
    assert_unlocked(page)
    cls = page.evaluate(CLS_JS)
    assert cls < 0.1, f"cumulative layout shift {cls:.3f} at 360 px"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["width"] <= 360
    assert js_errors(page) == []
    page.context.close()


def test_with_auto_unlock_off_a_button_spends_the_view(browser: Any, project: Callable[..., Path]) -> None:  # noqa: F811
    from generator.build import build

    root = project(site_yml="site_name: t\ncodesets: [cpt, hcpcs]\nmeter:\n  auto_unlock: false\n")
    build(root, quiet=True, jobs=1)
    server = serve(root)
    base = next(server)
    try:
        page = new_page(browser, base)
        page.goto("/cpt/27252/")
        button = page.locator("#s-coding-tips").get_by_role("button", name="Unlock (uses 1 of 1 views)")
        expect()(button).to_be_visible()
        expect()(meter(page)).to_contain_text("1 code page view remaining")
        button.click()
        assert_unlocked(page)
        expect()(page.locator("#s-coding-tips")).to_contain_text(CPT_TEXT)
        expect()(meter(page)).to_contain_text("0 code page views remaining")
        assert js_errors(page) == []
        page.context.close()
    finally:
        server.close()
