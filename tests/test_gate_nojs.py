"""Without JavaScript: refused forms re-shown with their message, gate pages that know the
account, the seed's wall wording, the account page with titles, the per-IP cap explained."""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import copy_project
from fixtures.gate.sitekit import client, settings_for

from gate.app import create_app

PASSWORD = "a long enough passphrase"


@pytest.fixture()
def root(small_site: Path, tmp_path: Path) -> Path:
    return copy_project(small_site, tmp_path / "proj")


@pytest.fixture()
def browser_without_js(root: Path) -> Iterator[Any]:
    with client(create_app(root, settings=settings_for(root))) as c:
        yield c


def _visible(html: str, marker: str) -> bool:
    tag = re.search(rf"<[a-z]+\b[^>]*{re.escape(marker)}[^>]*>", html)
    assert tag is not None, marker
    return " hidden" not in tag.group(0)


def test_a_refused_registration_shows_the_form_again_with_the_message(browser_without_js: Any) -> None:
    c = browser_without_js
    r = c.post("/gate/register", data={"email": "nojs@example.org", "password": "abc12345",
                                       "next": "/gate/page/cpt/27252/"}, follow_redirects=False)
    # Before: a 303 to the static form, which shows no message without JavaScript.
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "This password is too common" in html and _visible(html, "data-form-error")
    assert 'value="nojs@example.org"' in html  # the email is kept
    assert '<input type="hidden" name="next" value="/gate/page/cpt/27252/">' in html  # and the return page
    assert 'aria-invalid="true"' in html
    login = c.post("/gate/login", data={"email": "nobody@example.org", "password": "wrong password",
                                        "next": "/cpt/27252/"}, follow_redirects=False)
    assert login.status_code == 200 and "Wrong email or password." in login.text


def test_after_registering_gate_pages_show_the_account_and_its_meter(browser_without_js: Any) -> None:
    c = browser_without_js
    guest = c.get("/gate/page/cpt/27252/").text
    assert _visible(guest, 'data-auth="guest"') and not _visible(guest, 'data-auth="user"')
    assert "1 code page view remaining." in guest
    r = c.post("/gate/register", data={"email": "acct@example.org", "password": PASSWORD,
                                       "next": "/gate/page/cpt/27252/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/gate/page/cpt/27252/"
    page = c.get("/gate/page/cpt/27252/").text
    assert not _visible(page, 'data-auth="guest"') and _visible(page, 'data-auth="user"')  # before: Log in
    assert '<span class="account-email" data-session-email>acct@example.org</span>' in page
    assert "6 code page views remaining." in page and "Free accounts are limited to 6 page views." in page
    assert re.search(r"Your views renew on [A-Z][a-z]+ 1, \d{4}", page)  # the meter says when


def test_the_no_js_wall_uses_the_seed_wording(browser_without_js: Any) -> None:
    c = browser_without_js
    assert c.post("/gate/unlock/cpt/27252", data={"go": "1"}, follow_redirects=False).status_code == 303
    wall = c.get("/gate/page/icd-10-cm/S72.001A/").text
    assert "Register free account to get 5 more views." in wall  # from the plans: free 6 - guest 1
    assert "You have used your free code page view." in wall


def test_the_account_page_lists_unlocked_codes_with_titles(browser_without_js: Any) -> None:
    c = browser_without_js
    c.post("/gate/register", json={"email": "titles@example.org", "password": PASSWORD})
    assert c.post("/gate/unlock/icd-10-cm/S72.001A").status_code == 200
    page = c.get("/gate/account").text
    assert 'data-account-user hidden' not in page
    assert re.search(r'<span class="cl-code">S72\.001A</span> <span class="cl-title">[^<]*[Ff]racture', page)
    assert "1 of 6" in page and "titles@example.org" in page


def test_a_guest_stopped_by_the_ip_cap_is_told_why(root: Path) -> None:
    yml = root / "content" / "site.yml"
    yml.write_text(yml.read_text(encoding="utf-8") + "meter:\n  guest_ip_cap: 1\n", encoding="utf-8")
    app = create_app(root, settings=settings_for(root))
    with client(app) as first:
        assert first.post("/gate/unlock/cpt/27252").status_code == 200
    with client(app) as second:
        r = second.post("/gate/unlock/cpt/27250")
        assert r.status_code == 402 and r.json()["reason"] == "ip_cap"
        assert "network" in r.json()["message"] and "Register free account" in r.json()["message"]
        session = second.get("/gate/session").json()
        assert session["views_left"] == 0 and "network" in session["words"]["wall"]["text"]
        assert "your network" in second.get("/gate/page/cpt/27250/").text
