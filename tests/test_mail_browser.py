"""In real headless Chromium against a real `coderef serve` (site + gate) with a stand-in relay and the
consult SMTP server: password reset from the mailed link, the plans page, the /consult/ form, the
asker's thread and the consultant's inbox."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import browser, copy_project, js_errors, new_page, run_axe, screenshot  # noqa: F401
from fixtures.gate.sitekit import settings_for, uvicorn_server
from fixtures.mail.consultkit import consult_server
from fixtures.mail.relaykit import Received, Recorder, relay, url_of

from gate.accounts import passwords, roles
from gate.accounts import records as accounts
from gate.db import Database

pytestmark = [pytest.mark.browser, pytest.mark.slow]
KEY = "browser-test-key-" + "b" * 32
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def world(small_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = copy_project(small_site, tmp_path_factory.mktemp("mailbrowser") / "proj")
    with relay() as (rec, ctl):
        env = {
            "CODEREF_SECRET_KEYS": KEY,
            "CODEREF_ENV": "development",
            "CODEREF_SMTP_URL": url_of(ctl),
            "CODEREF_MAIL_POLL": "0.05",
        }
        settings = settings_for(root, None, **env)
        db = Database(None, settings.sqlite_path)
        ph = passwords.hasher(2, 19456, 1)
        db.call(
            accounts.create,
            "carl@example.org",
            passwords.hash_password(ph, PASSWORD),
            "free",
            int(time.time()),
        )
        carl = db.call(accounts.find, "carl@example.org")
        db.call(roles.grant, carl.id, "consultant")
        with uvicorn_server(root, env, module="generator.cli") as base, consult_server(settings):
            yield {"base": base, "rec": rec, "db": db}
        db.close()


def mail_to(rec: Recorder, to: str, subject: str, timeout: float = 20) -> Received:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for r in reversed(list(rec.received)):
            if r.rcpt_tos == [to] and subject in str(r.message["Subject"]):
                return r
        time.sleep(0.05)
    raise AssertionError(
        f"no mail to {to} about {subject!r}: {[str(r.message['Subject']) for r in rec.received]}"
    )


def register(page: Any, email: str) -> Any:
    page.goto("/register/")
    page.fill("#reg-email", email)
    page.fill("#reg-password", PASSWORD)
    page.click("form[data-auth-form] button[type=submit]")
    page.wait_for_load_state("load")
    return page


def login(page: Any, email: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#login-email", email)
    page.fill("#login-password", password)
    page.click("form[data-auth-form] button[type=submit]")
    page.wait_for_load_state("load")


def test_password_reset_from_the_email_link(browser: Any, world: dict[str, Any]) -> None:  # noqa: F811
    page = register(new_page(browser, world["base"]), "rita@example.org")
    mail_to(world["rec"], "rita@example.org", "Confirm your email address")

    other = new_page(browser, world["base"])
    other.goto("/gate/password/forgot")
    other.fill("#forgot-email", "rita@example.org")
    other.click("form[action='/gate/password/forgot'] button[type=submit]")
    other.wait_for_selector("[data-reset-sent]")
    assert "If an account exists for that address" in other.inner_text("[data-reset-sent]")
    link = re.search(
        r"https?://\S+/gate/password/reset\?token=\S+",
        mail_to(world["rec"], "rita@example.org", "Reset your").text,
    )
    assert link
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    other.goto("/" + path)
    other.fill("#reset-new", "a brand new passphrase")
    other.click("form[action='/gate/password/reset'] button[type=submit]")
    other.wait_for_url(re.compile(r"/account/$"))
    other.wait_for_selector("[data-account-user] [data-session-email]:has-text('rita@example.org')")
    mail_to(world["rec"], "rita@example.org", "password was changed")
    page.goto("/gate/account")  # the first browser's session ended with the reset
    assert "/login/" in page.url
    screenshot(other, "mail-password-reset")
    assert js_errors(other) == []


def test_plans_page(browser: Any, world: dict[str, Any]) -> None:  # noqa: F811
    page = new_page(browser, world["base"])
    page.goto("/plans/")
    cards = page.locator("article.plan-card")
    assert cards.count() == 2
    assert "Unlimited code pages" in page.inner_text("[data-plan=paid]")
    assert "coderef accounts set-plan" in page.inner_text("[data-no-checkout]")
    assert page.locator("form[action='/gate/billing/checkout']").count() == 0
    assert run_axe(page) == []
    screenshot(page, "mail-plans")


def test_consult_form_thread_and_inbox(browser: Any, world: dict[str, Any]) -> None:  # noqa: F811
    asker = register(new_page(browser, world["base"]), "ann@example.org")
    asker.goto("/consult/")
    assert "0 of 1 questions used" in asker.inner_text("[data-consult-quota]")
    assert run_axe(asker) == []
    asker.fill("#consult-subject", "Modifier for bilateral 27252?")
    asker.fill("#consult-question", "Which modifier goes with 27252 when both hips are treated?")
    asker.click(".consult-form button[type=submit]")
    asker.wait_for_url(re.compile(r"/account/consult/\d+/$"))
    assert "both hips are treated" in asker.inner_text("ol.thread")
    for _ in range(100):  # the automatic first answer lands within seconds
        if "Automatic first answer" in asker.inner_text("ol.thread"):
            break
        time.sleep(0.1)
        asker.reload()
    assert "Automatic first answer" in asker.inner_text("ol.thread")
    auto = mail_to(world["rec"], "ann@example.org", "Modifier for bilateral 27252?")
    assert auto.message["Auto-Submitted"] == "auto-replied"
    assert "automatic answer from CasePilot" in auto.text  # the small site has CasePilot's facts
    # The answer's sources are live links in the thread.
    sources = asker.locator("ol.thread li.automatic a[href^='https://codes.example.org/cpt/27252/']")
    assert sources.count() >= 1
    assert run_axe(asker) == []
    screenshot(asker, "mail-consult-thread")

    consultant = new_page(browser, world["base"])
    login(consultant, "carl@example.org", PASSWORD)
    consultant.goto("/consult/inbox/")
    row = consultant.locator("tr[data-case]", has_text="Modifier for bilateral 27252?")
    assert "unclaimed" in row.inner_text()
    assert run_axe(consultant) == []
    screenshot(consultant, "mail-consult-inbox")
    row.locator("a").click()
    consultant.click("form[action$='/claim'] button")
    consultant.wait_for_selector("text=You claimed this case.")
    consultant.fill("#reply-text", "Use modifier 50 on one line for the bilateral procedure.")
    consultant.click("form[action$='/reply'] button")
    consultant.wait_for_selector("text=Your reply was sent to the asker.")
    assert run_axe(consultant) == []

    reply = mail_to(world["rec"], "ann@example.org", "Re: Modifier for bilateral")
    assert "modifier 50" in reply.text and reply.message["Auto-Submitted"] is None
    asker.reload()
    assert "modifier 50" in asker.inner_text("ol.thread")
    assert asker.inner_text("[data-case-status]") == "answered"
    asker.goto("/account/consult/")
    assert "1 of 1 questions used" in asker.inner_text("[data-consult-quota]")
    assert run_axe(asker) == []
    asker.goto("/account/")  # the script fills the account page's consult line
    asker.wait_for_selector("[data-account-consult]:has-text('1 of 1 questions used this period')")
    assert js_errors(asker) == [] and js_errors(consultant) == []
