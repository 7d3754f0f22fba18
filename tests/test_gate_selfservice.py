"""Password reset, address verification, sessions, deletion and the password-changed mail (item 16 of #11)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fixtures.mail.gatekit import body, gate_client, gate_root, link_in, queued

PASSWORD = "a long enough passphrase"
NEW = "another long passphrase"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return gate_root(tmp_path)


@pytest.fixture
def c(root: Path) -> Iterator[Any]:
    with gate_client(root) as client:
        yield client


def register(c: Any, email: str = "ann@example.org") -> None:
    r = c.post("/gate/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 201, r.text


def test_registration_mails_a_verification_link_that_works_once(root: Path, c: Any) -> None:
    register(c)
    (mail,) = queued(root)
    assert mail["To"] == "ann@example.org" and mail["Auto-Submitted"] == "auto-generated"
    link = link_in(mail, "/gate/email/verify")
    page = c.get(link)  # showing the link's page does not confirm (mail scanners fetch links)
    assert page.status_code == 200 and "Confirm my address" in page.text
    assert "not confirmed yet" in c.get("/gate/account/security").text
    token = link.split("token=")[1]
    assert c.post("/gate/email/verify", json={"token": token}).json() == {"ok": True}
    assert c.post("/gate/email/verify", json={"token": token}).status_code == 400
    assert "confirmed." in c.get("/gate/account/security").text
    assert c.post("/gate/email/verify/send", json={}).json()["state"] == "verified"


def test_forgot_answers_the_same_for_known_and_unknown_addresses(root: Path, c: Any) -> None:
    register(c)
    c.cookies.clear()
    known = c.post("/gate/password/forgot", json={"email": "ann@example.org"})
    unknown = c.post("/gate/password/forgot", json={"email": "nobody@example.org"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, known.json())
    form = c.post(
        "/gate/password/forgot", data={"email": "nobody@example.org"}, headers=FORM, follow_redirects=False
    )
    assert form.status_code == 303 and form.headers["location"] == "/gate/password/forgot?sent=1"
    mails = queued(root)
    assert [m["Subject"] for m in mails] == [
        "Confirm your email address for coderef test",
        "Reset your coderef test password",
    ]
    assert all(m["To"] == "ann@example.org" for m in mails)


def test_reset_is_single_use_ends_every_session_and_mails_the_owner(
    root: Path, c: Any, tmp_path: Path
) -> None:
    register(c)
    with gate_client(root) as other:  # a second browser, logged in
        assert (
            other.post("/gate/login", json={"email": "ann@example.org", "password": PASSWORD}).status_code
            == 200
        )
        assert other.get("/gate/session").json()["account"] is not None
        c.cookies.clear()
        c.post("/gate/password/forgot", json={"email": "ann@example.org"})
        link = link_in(queued(root)[-1], "/gate/password/reset")
        token = link.split("token=")[1]
        assert "Choose a new password" in c.get(link).text
        assert (
            c.post("/gate/password/reset", json={"token": token, "new_password": "short"}).status_code == 400
        )
        r = c.post("/gate/password/reset", json={"token": token, "new_password": NEW})
        assert r.json() == {"ok": True}
        assert c.get("/gate/session").json()["account"]["email"] == "ann@example.org"  # signed in afresh
        assert other.get("/gate/session").json()["account"] is None  # every other session ended
        again = c.post(
            "/gate/password/reset", json={"token": token, "new_password": "yet another passphrase"}
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_token"
        assert c.get(link).status_code == 400
    c.cookies.clear()
    assert c.post("/gate/login", json={"email": "ann@example.org", "password": PASSWORD}).status_code == 401
    assert c.post("/gate/login", json={"email": "ann@example.org", "password": NEW}).status_code == 200
    changed = queued(root)[-1]
    assert changed["Subject"] == "Your coderef test password was changed"
    assert "/gate/password/forgot" in body(changed)


def test_parallel_uses_of_one_reset_link_succeed_once(root: Path, c: Any) -> None:
    register(c)
    c.post("/gate/password/forgot", json={"email": "ann@example.org"})
    token = link_in(queued(root)[-1], "/gate/password/reset").split("token=")[1]

    def use(i: int) -> int:
        with gate_client(root) as x:
            return int(
                x.post(
                    "/gate/password/reset", json={"token": token, "new_password": f"{NEW} {i}"}
                ).status_code
            )

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(use, range(16)))
    assert statuses.count(200) == 1 and statuses.count(400) == 15


def test_expired_reset_link_is_refused(root: Path, c: Any) -> None:
    register(c)
    c.post("/gate/password/forgot", json={"email": "ann@example.org"})
    token = link_in(queued(root)[-1], "/gate/password/reset").split("token=")[1]
    from gate.db import Database

    db = Database(None, root / "var" / "gate.sqlite")
    db.call(lambda conn: conn.execute("UPDATE account_tokens SET expires_at=?", (int(time.time()) - 1,)))
    db.close()
    assert c.post("/gate/password/reset", json={"token": token, "new_password": NEW}).status_code == 400


def test_tokens_are_stored_hashed(root: Path, c: Any) -> None:
    register(c)
    token = link_in(queued(root)[0], "/gate/email/verify").split("token=")[1]
    raw = (root / "var" / "gate.sqlite").read_bytes()
    assert token.encode() not in raw


def test_password_change_mails_the_owner(root: Path, c: Any) -> None:
    register(c)
    r = c.post("/gate/password", json={"current_password": PASSWORD, "new_password": NEW})
    assert r.json() == {"ok": True}
    assert queued(root)[-1]["Subject"] == "Your coderef test password was changed"


def test_sessions_are_listed_and_others_logged_out(root: Path, c: Any) -> None:
    register(c)
    with gate_client(root) as b, gate_client(root) as d:
        for x in (b, d):
            x.post("/gate/login", json={"email": "ann@example.org", "password": PASSWORD})
        page = c.get("/gate/account/security").text
        assert page.count("<tr") == 4 and page.count("this browser") == 1  # header + 3 sessions
        assert c.post("/gate/account/sessions/logout-others", json={}).json() == {"ok": True, "ended": 2}
        assert b.get("/gate/session").json()["account"] is None
        assert d.get("/gate/session").json()["account"] is None
    assert c.get("/gate/session").json()["account"] is not None


def test_account_deletion_needs_the_password_and_says_goodbye(root: Path, c: Any) -> None:
    register(c)
    assert c.post("/gate/account/delete", json={"password": "wrong password!"}).status_code == 401
    assert c.post("/gate/account/delete", json={"password": PASSWORD}).json() == {"ok": True}
    assert c.get("/gate/session").json()["account"] is None
    assert c.post("/gate/login", json={"email": "ann@example.org", "password": PASSWORD}).status_code == 401
    assert queued(root)[-1]["Subject"] == "Your coderef test account was deleted"
    register(c)  # the address is free again


def test_require_verified_email_holds_free_views_until_confirmed(tmp_path: Path) -> None:
    root = gate_root(
        tmp_path, "meter:\n  require_verified_email: true\n  plans: {guest: 1, free: 6, paid: null}\n"
    )
    with gate_client(root) as c:
        register(c)
        assert c.get("/gate/session").json()["views_left"] == 1  # a guest's allowance until confirmed
        assert c.post("/gate/unlock/cpt/27252").status_code == 200
        refused = c.post("/gate/unlock/cpt/27253")
        assert refused.status_code == 402 and "Confirm your email address" in refused.json()["message"]
        token = link_in(queued(root)[0], "/gate/email/verify").split("token=")[1]
        c.post("/gate/email/verify", json={"token": token})
        assert c.get("/gate/session").json()["views_left"] == 5
        assert c.post("/gate/unlock/cpt/27253").status_code == 200


def test_registering_an_existing_address_mails_its_owner(root: Path, c: Any) -> None:
    register(c)
    c.cookies.clear()
    for _ in range(5):
        again = c.post("/gate/register", json={"email": "ann@example.org", "password": "other passphrase 1"})
        assert again.status_code == 201  # the same answer as for a new address
        c.cookies.clear()
    notes = [m for m in queued(root) if m["Subject"] == "You already have a coderef test account"]
    assert len(notes) == 3  # told, but never flooded
    assert "/gate/password/forgot" in body(notes[0])
