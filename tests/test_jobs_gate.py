"""The job board on the gate (Starlette TestClient over a real built site): posting with and without
JavaScript, validation, limits, the editors' queue, approval published by a real jobs-only build."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import copy_project
from fixtures.gate.sitekit import app_clients

from gate.accounts.roles import grant
from gate.db import Database
from gate.jobs import posts

PASSWORD = "a long enough passphrase"
Factory = Callable[..., Any]
FORM = {
    "title": "Remote HCC Coder",
    "employer_name": "Acme Risk Partners",
    "work": "remote",
    "remote_in": "TX, FL",
    "employment_full-time": "1",
    "setting_payer": "1",
    "credentials_required": "CRC",
    "salary_min": "28",
    "salary_max": "34.50",
    "salary_unit": "hour",
    "salary_currency": "USD",
    "apply_email": "jobs@acme-risk.example.com",
    "description": "Code Medicare Advantage charts for HCC capture.\n\n"
    "## You have\n\n- A CRC\n- Two years of risk adjustment coding\n\nFully remote within Texas and Florida.",
}
FORM_HEADERS = {"content-type": "application/x-www-form-urlencoded"}
JSON_ACCEPT = {"accept": "application/json"}


@pytest.fixture(scope="module")
def built(small_site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(small_site, tmp_path_factory.mktemp("jobsgate") / "proj")


@pytest.fixture()
def root(built: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the built test site (approvals write listings and rebuild)."""
    return copy_project(built, tmp_path / "proj")


@pytest.fixture()
def make(root: Path) -> Iterator[Factory]:
    with app_clients(root) as factory:
        yield factory


def register(c: Any, email: str) -> None:
    assert c.post("/gate/register", json={"email": email, "password": PASSWORD}).status_code == 201


def make_editor(root: Path, email: str) -> None:
    db = Database(None, root / "var" / "gate.sqlite")
    account = db.call(lambda conn: conn.one("SELECT id FROM accounts WHERE email=?", (email,)))
    assert db.call(grant, int(account[0]), "editor")
    db.close()


def post_json(c: Any, fields: dict[str, str], **headers: str) -> Any:
    return c.post("/gate/jobs/post", data=fields, headers={**JSON_ACCEPT, **headers})


def test_posting_needs_an_account_and_keeps_what_was_typed(make: Factory) -> None:
    c = make()
    r = post_json(c, FORM)
    assert r.status_code == 401 and r.json()["error"] == "login_required"
    page = c.post(
        "/gate/jobs/post", data={**FORM, "title": 'Coder <script>alert("x")</script>'}, headers=FORM_HEADERS
    )
    assert page.status_code == 401 and page.headers["content-type"].startswith("text/html")
    assert "Log in or create a free account first" in page.text
    assert 'value="Coder &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in page.text  # kept, and inert
    assert "<script>alert" not in page.text
    assert 'class="site-header"' in page.text  # the site's own frame


def test_invalid_posts_get_errors_by_field(make: Factory) -> None:
    c = make()
    register(c, "emp@example.org")
    bad = {
        **FORM,
        "salary_min": "40",
        "salary_max": "30",
        "remote_in": "Texas",
        "credentials_required": "CPCX",
        "apply_email": "",
    }
    r = post_json(c, bad)
    assert r.status_code == 400 and r.json()["error"] == "invalid_post"
    errors = r.json()["errors"]
    assert set(errors) == {"salary_min", "remote_in", "apply_url"}
    assert "swap them" in errors["salary_min"] and "'TEXAS'" not in errors["remote_in"]
    # Once those are fixed, the build's own reader has the last word (here: the unknown credential).
    r = post_json(c, {**FORM, "credentials_required": "CPCX"})
    assert r.status_code == 400 and set(r.json()["errors"]) == {"credentials_required"}
    assert "unknown value 'CPCX'" in r.json()["errors"]["credentials_required"]
    page = c.post("/gate/jobs/post", data={**FORM, "work": ""}, headers=FORM_HEADERS)
    assert page.status_code == 400
    assert re.search(
        r'<p class="field-error" id="jf-work-error">Choose on-site, hybrid or remote.</p>', page.text
    )
    assert 'value="Remote HCC Coder"' in page.text and 'name="setting_payer" value="1" checked' in page.text


def test_a_valid_post_waits_for_review_json_and_form(make: Factory) -> None:
    c = make()
    register(c, "emp@example.org")
    r = post_json(c, FORM)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    first = r.json()["id"]
    r = c.post("/gate/jobs/post", data=FORM, headers=FORM_HEADERS, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/gate/jobs/mine?posted={first + 1}"
    mine = c.get(r.headers["location"])
    assert f"your job was received as post {first + 1}" in mine.text
    assert mine.text.count("Waiting for review") == 2


def test_size_limit_and_cross_site_posts(make: Factory) -> None:
    c = make()
    register(c, "emp@example.org")
    r = post_json(c, {**FORM, "description": "x" * 70_000})
    assert r.status_code == 413
    r = post_json(c, {**FORM, "description": "Long. " * 2000})
    assert r.status_code == 400 and "at most 10,000" in r.json()["errors"]["description"]
    r = post_json(c, FORM, origin="https://evil.example")
    assert r.status_code == 403 and r.json()["error"] == "cross_site"


def test_daily_limits_per_account_and_per_address(make: Factory) -> None:
    c = make(CODEREF_JOB_POSTS_PER_ACCOUNT="2", CODEREF_JOB_POSTS_PER_IP="3")
    register(c, "one@example.org")
    assert [post_json(c, FORM).status_code for _ in range(3)] == [201, 201, 429]
    limited = post_json(c, FORM)
    assert limited.headers["retry-after"] == "86400" and "this account" in limited.json()["message"]
    c.post("/gate/logout")
    register(c, "two@example.org")
    assert [post_json(c, FORM).status_code for _ in range(2)] == [201, 429]  # the address has had 3
    assert "your network" in post_json(c, FORM).json()["message"]


def test_editors_review_reject_and_the_poster_reads_why(make: Factory, root: Path) -> None:
    poster, editor, other = make(), make(), make()
    register(poster, "emp@example.org")
    post_id = post_json(poster, FORM).json()["id"]
    assert other.get("/gate/jobs/queue", follow_redirects=False).status_code == 303  # a guest: log in first
    register(other, "someone@example.org")
    assert other.get("/gate/jobs/queue").status_code == 403
    assert other.post(f"/gate/jobs/{post_id}/reject", data={"reason": "no"}).status_code == 403
    register(editor, "ed@example.org")
    make_editor(root, "ed@example.org")
    queue = editor.get("/gate/jobs/queue")
    assert queue.status_code == 200 and f"Post {post_id}: Remote HCC Coder" in queue.text
    assert "Texas, Florida" in queue.text and "$28–$34.50 an hour" in queue.text  # the preview
    r = editor.post(
        f"/gate/jobs/{post_id}/reject", data={"reason": " "}, headers=FORM_HEADERS, follow_redirects=False
    )
    assert r.status_code == 303 and "failed=1" in r.headers["location"]
    r = editor.post(
        f"/gate/jobs/{post_id}/reject", data={"reason": "Pay is not stated per hour"}, headers=JSON_ACCEPT
    )
    assert r.status_code == 200 and r.json()["ok"]
    assert (
        editor.post(f"/gate/jobs/{post_id}/reject", data={"reason": "again"}, headers=JSON_ACCEPT).status_code
        == 409
    )
    mine = poster.get("/gate/jobs/mine").text
    assert "Rejected" in mine and "Pay is not stated per hour" in mine
    assert editor.post("/gate/jobs/abc/approve", headers=JSON_ACCEPT).status_code == 404
    assert editor.post(f"/gate/jobs/{post_id}/destroy", headers=JSON_ACCEPT).status_code == 404


@pytest.mark.slow
def test_approval_on_the_web_publishes_the_job(make: Factory, root: Path) -> None:
    poster, editor = make(), make()
    register(poster, "emp@example.org")
    post_id = post_json(poster, FORM).json()["id"]
    register(editor, "ed@example.org")
    make_editor(root, "ed@example.org")
    r = editor.post(f"/gate/jobs/{post_id}/approve", headers=JSON_ACCEPT)
    assert r.status_code == 200 and r.json()["ok"], r.json()
    assert "Published." in r.json()["message"]
    slug = f"remote-hcc-coder-acme-risk-partners-{post_id}"
    page = editor.get(f"/jobs/{slug}/")
    assert page.status_code == 200 and "Acme Risk Partners" in page.text
    assert f'href="/jobs/{slug}/"' in editor.get("/jobs/").text
    assert "Published" in poster.get("/gate/jobs/mine").text
    r = editor.post(f"/gate/jobs/{post_id}/expire", headers=FORM_HEADERS, follow_redirects=False)
    assert r.status_code == 303 and "show=approved" in r.headers["location"]
    assert "This job is closed." in editor.get(f"/jobs/{slug}/").text
    assert f'href="/jobs/{slug}/"' not in editor.get("/jobs/").text
    db = Database(None, root / "var" / "gate.sqlite")
    assert db.call(posts.get, post_id).status == posts.EXPIRED
    db.close()


@pytest.mark.slow
def test_the_gates_job_pages_validate(make: Factory, root: Path, tmp_path: Path) -> None:
    from test_html_validity import nu_check

    poster, editor = make(), make()
    register(poster, "emp@example.org")
    refused = poster.post("/gate/jobs/post", data={**FORM, "work": ""}, headers=FORM_HEADERS)
    pages = {"form-errors": refused.text}
    post_json(poster, FORM)
    pages["mine"] = poster.get("/gate/jobs/mine").text
    register(editor, "ed@example.org")
    make_editor(root, "ed@example.org")
    pages["queue"] = editor.get("/gate/jobs/queue?notice=Rejected+post+9.").text
    pages["published"] = editor.get("/gate/jobs/queue?show=approved").text
    files = []
    for name, html in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        files.append(str(path))
    code, report = nu_check(files)
    assert code == 0, f"the Nu checker found errors:\n{report}"
