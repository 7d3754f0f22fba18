"""The gate's HTTP behaviour through Starlette's TestClient: meter story, cookies, CSRF, limits, pages,
static."""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import KEY, app_clients, build_site, client, pg_schema, secret_of, settings_for

from gate.app import create_app, create_gate_app

PASSWORD = "a long enough passphrase"
Factory = Callable[..., Any]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    return build_site(tmp_path)


@pytest.fixture()
def make(root: Path) -> Iterator[Factory]:
    with app_clients(root) as factory:
        yield factory


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
    else:
        with pg_schema() as url:
            yield url


def unlock(c: Any, codeset: str, code: str) -> Any:
    return c.post(f"/gate/unlock/{codeset}/{code}")


def test_guest_one_unlock_then_register_five_more_then_402(make: Factory, engine_url: str | None) -> None:
    c = make(engine_url)
    first = unlock(c, "cpt", "27252")
    assert first.status_code == 200
    assert first.json()["sections"][0] == {
        "id": "excludes1", "title": "Excludes1", "html": secret_of("cpt", "27252")}
    assert first.json()["views_left"] == 0
    refused = unlock(c, "cpt", "27253")
    assert refused.status_code == 402
    assert refused.json()["error"] == "allowance_exhausted" and refused.json()["reason"] == "guest_limit"
    assert "PROTECTED" not in refused.text
    reg = c.post("/gate/register", json={"email": "  New@Example.ORG ", "password": PASSWORD})
    assert reg.status_code == 201
    body = reg.json()
    assert body["account"] == {"email": "new@example.org", "plan": "free"}
    assert body["views_used"] == 1 and body["views_left"] == 5  # the guest's unlock carried over
    assert body["unlocked"] == [{"codeset": "cpt", "code": "27252"}]
    codes = [
        ("cpt", "27253"), ("icd-10-cm", "S72.001A"), ("hcpcs", "A0021"), ("cpt", "99201"), ("cpt", "99202"),
    ]
    for i, (cs, code) in enumerate(codes):
        r = unlock(c, cs, code)
        assert r.status_code == 200, r.text
        assert r.json()["views_left"] == 4 - i
    last = unlock(c, "cpt", "99203")
    assert (
        last.status_code == 402 and last.json()["reason"] == "free_limit" and last.json()["views_left"] == 0
    )
    assert unlock(c, "cpt", "27252").status_code == 200  # re-views stay free when spent
    state = c.get("/gate/session").json()
    assert state["views_used"] == 6 and state["views_left"] == 0 and state["allowance"] == 6
    assert set(state) == {
        "account", "views_left", "views_used", "allowance", "unlocked", "plan", "auto_unlock", "words",
    }


def test_reviews_are_free_and_gets_never_consume(make: Factory) -> None:
    c = make()
    for _ in range(3):
        c.get("/gate/page/cpt/27252/")
        c.head("/gate/page/cpt/27252/")
        c.get("/gate/session")
    assert c.get("/gate/session").json()["views_left"] == 1
    for _ in range(3):
        assert unlock(c, "cpt", "27252").status_code == 200
    assert c.get("/gate/session").json()["views_used"] == 1


def test_paid_account_is_unlimited(make: Factory, root: Path) -> None:
    c = make()
    c.post("/gate/register", json={"email": "p@example.org", "password": PASSWORD})
    from gate.accounts import records as accounts
    from gate.db import Database
    db = Database(None, root / "var" / "gate.sqlite")
    assert db.call(accounts.set_plan, "p@example.org", "paid")
    db.close()
    for cs, code in [("cpt", "27252"), ("cpt", "27253"), ("cpt", "99201"), ("cpt", "99202"), ("cpt", "99203"),
                     ("cpt", "99204"), ("hcpcs", "A0021"), ("icd-10-cm", "S72.001A")]:
        r = unlock(c, cs, code)
        assert r.status_code == 200 and r.json()["views_left"] is None
    s = c.get("/gate/session").json()
    assert (
        s["plan"] == "paid" and s["views_left"] is None and s["allowance"] is None and len(s["unlocked"]) == 8
    )


def test_paid_unlock_records_are_saved_by_shutdown(root: Path) -> None:
    """Paid unlocks are committed in batches after the answer; none may be lost on a clean stop."""
    from gate.accounts import records as accounts
    from gate.db import Database

    codes = ["27252", "27253", "99201", "99202", "99203", "99204"]
    with client(create_app(root, settings=settings_for(root))) as c:
        c.post("/gate/register", json={"email": "q@example.org", "password": PASSWORD})
        db = Database(None, root / "var" / "gate.sqlite")
        assert db.call(accounts.set_plan, "q@example.org", "paid")
        for code in codes:
            assert unlock(c, "cpt", code).status_code == 200
    rows = db.call(lambda conn: conn.all("SELECT code FROM unlocks WHERE subject LIKE 'a:%' ORDER BY code"))
    db.close()
    assert [r[0] for r in rows] == sorted(codes)


@pytest.mark.parametrize("cookie", ["garbage", "x" * 5000, "a.b.c", "é", ""])
def test_garbage_cookies_mean_guest(make: Factory, cookie: str) -> None:
    c = make()
    raw = {"cookie": f"coderef_session={cookie}; coderef_guest={cookie}".encode()}
    r = c.get("/gate/session", headers=raw)
    assert r.status_code == 200 and r.json()["account"] is None and r.json()["plan"] == "guest"
    assert c.post("/gate/unlock/cpt/27252", headers=raw).status_code == 200


def test_tampered_and_foreign_key_cookies_are_guests(make: Factory) -> None:
    c = make()
    c.post("/gate/register", json={"email": "t@example.org", "password": PASSWORD})
    good = c.cookies.get("coderef_session")
    assert good and c.get("/gate/session").json()["account"]
    sid, sig = good.rsplit(".", 1)
    tampered = sid[:-1] + ("A" if sid[-1] != "A" else "B") + "." + sig
    c.cookies.set("coderef_session", tampered)
    assert c.get("/gate/session").json()["account"] is None
    other = make(CODEREF_SECRET_KEYS="another-key-" + "z" * 30)
    other.cookies.set("coderef_session", good)
    assert other.get("/gate/session").json()["account"] is None


def test_key_rotation_new_key_signs_old_key_verifies(make: Factory) -> None:
    old = make()
    old.post("/gate/register", json={"email": "r@example.org", "password": PASSWORD})
    cookie = old.cookies.get("coderef_session")
    rotated = make(CODEREF_SECRET_KEYS="brand-new-key-" + "n" * 30 + "," + KEY)
    rotated.cookies.set("coderef_session", cookie)
    assert rotated.get("/gate/session").json()["account"]["email"] == "r@example.org"
    login = rotated.post("/gate/login", json={"email": "r@example.org", "password": PASSWORD})
    fresh = login.cookies.get("coderef_session")
    assert fresh and fresh != cookie
    only_old = make()  # the old key alone cannot verify what the new key signed
    only_old.cookies.set("coderef_session", fresh)
    assert only_old.get("/gate/session").json()["account"] is None


def test_logout_kills_the_cookie_and_replay_gets_nothing(make: Factory) -> None:
    c = make()
    c.post("/gate/register", json={"email": "l@example.org", "password": PASSWORD})
    cookie = c.cookies.get("coderef_session")
    out = c.post("/gate/logout")
    assert out.status_code == 200 and out.json()["account"] is None
    assert 'coderef_session=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    replay = make()
    replay.cookies.set("coderef_session", cookie)
    assert replay.get("/gate/session").json()["account"] is None


def test_password_change_ends_all_sessions(make: Factory) -> None:
    a, b = make(), make()
    a.post("/gate/register", json={"email": "pw@example.org", "password": PASSWORD})
    b.post("/gate/login", json={"email": "pw@example.org", "password": PASSWORD})
    old_a, old_b = a.cookies.get("coderef_session"), b.cookies.get("coderef_session")
    wrong = a.post(
        "/gate/password", json={"current_password": "not it at all", "new_password": "x" * 12 + "yz"}
    )
    assert wrong.status_code == 401
    ok = a.post(
        "/gate/password", json={"current_password": PASSWORD, "new_password": "another good passphrase"}
    )
    assert ok.status_code == 200
    assert a.get("/gate/session").json()["account"]["email"] == "pw@example.org"  # this browser stays in
    assert b.get("/gate/session").json()["account"] is None
    replay = make()
    for cookie in (old_a, old_b):
        replay.cookies.set("coderef_session", cookie)
        assert replay.get("/gate/session").json()["account"] is None
    assert (
        replay.post("/gate/login", json={"email": "pw@example.org", "password": PASSWORD}).status_code == 401
    )
    assert replay.post("/gate/login", json={"email": "pw@example.org",
                                            "password": "another good passphrase"}).status_code == 200
    guest = make()
    assert (
        guest.post("/gate/password", json={"current_password": "a", "new_password": "b"}).status_code == 401
    )


def test_session_idle_and_absolute_lifetimes(make: Factory, root: Path) -> None:
    c = make()
    c.post("/gate/register", json={"email": "e@example.org", "password": PASSWORD})
    from gate.db import Database
    db = Database(None, root / "var" / "gate.sqlite")
    db.call(lambda conn: conn.execute("UPDATE sessions SET seen_at=seen_at-8*86400"))
    assert c.get("/gate/session").json()["account"] is None  # idle for longer than 7 days
    c.post("/gate/login", json={"email": "e@example.org", "password": PASSWORD})
    db.call(lambda conn: conn.execute("UPDATE sessions SET created_at=created_at-31*86400"))
    assert c.get("/gate/session").json()["account"] is None  # older than 30 days however active
    c.post("/gate/login", json={"email": "e@example.org", "password": PASSWORD})
    assert c.get("/gate/session").json()["account"] is not None
    db.close()


def test_unknown_email_and_wrong_password_answer_identically(make: Factory) -> None:
    c = make()
    c.post("/gate/register", json={"email": "known@example.org", "password": PASSWORD})
    c.post("/gate/logout")
    a = c.post("/gate/login", json={"email": "known@example.org", "password": "wrong password!"})
    b = c.post("/gate/login", json={"email": "nobody@example.org", "password": "wrong password!"})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json() == {"error": "bad_credentials", "message": "Wrong email or password."}
    assert "set-cookie" not in a.headers and "set-cookie" not in b.headers


def test_new_session_id_on_login(make: Factory) -> None:
    c = make()
    c.post("/gate/register", json={"email": "n@example.org", "password": PASSWORD})
    first = c.cookies.get("coderef_session")
    c.post("/gate/login", json={"email": "n@example.org", "password": PASSWORD})
    second = c.cookies.get("coderef_session")
    assert first != second
    replay = make()
    replay.cookies.set("coderef_session", first)
    assert replay.get("/gate/session").json()["account"] is None


@pytest.mark.parametrize("payload,code", [
    ({"email": "bad", "password": PASSWORD}, "invalid_email"),
    ({"email": "a@b", "password": PASSWORD}, "invalid_email"),
    ({"email": "ok@example.org", "password": "short"}, "password_too_short"),
    ({"email": "ok@example.org", "password": "x" * 1025}, "password_too_long"),
    ({"email": "ok@example.org", "password": "password123"}, "weak_password"),
])
def test_registration_validation(make: Factory, payload: dict[str, str], code: str) -> None:
    r = make().post("/gate/register", json=payload)
    assert r.status_code == 400 and r.json()["error"] == code and r.json()["message"]


def test_registering_an_existing_email_answers_like_a_new_account(make: Factory) -> None:
    """Status, body and cost are those of a new registration: the answer does not tell which
    emails have accounts (and the session it hands out opens nothing)."""
    import statistics

    owner = make()
    first = owner.post("/gate/register", json={"email": "dup@example.org", "password": PASSWORD})
    assert first.status_code == 201
    timings: dict[str, list[float]] = {"new": [], "taken": []}
    answers = {}
    for i in range(5):
        for kind, email in (("new", f"fresh{i}@example.org"), ("taken", "DUP@example.org")):
            c = make()
            assert unlock(c, "cpt", "27252").status_code == 200  # a guest view to carry over
            t = time.perf_counter()
            r = c.post("/gate/register", json={"email": email, "password": PASSWORD})
            timings[kind].append(time.perf_counter() - t)
            body = r.json()
            body["account"]["email"] = "…"
            cookies = sorted(h.split("=")[0] for h in r.headers.get_list("set-cookie"))
            answers[kind] = (r.status_code, body, cookies)
    assert answers["new"] == answers["taken"]
    assert answers["taken"][0] == 201
    new, taken = statistics.median(timings["new"]), statistics.median(timings["taken"])
    assert taken > new * 0.5, timings  # before: 1.6 ms against 27 ms
    form = make().post("/gate/register",
                       data={"email": "dup@example.org", "password": PASSWORD, "next": "/cpt/27252/"},
                       follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == "/cpt/27252/"
    # The owner is untouched.
    assert owner.get("/gate/session").json()["account"]["email"] == "dup@example.org"


def test_form_login_redirects_to_same_origin_next_only(make: Factory) -> None:
    c = make()
    c.post("/gate/register", json={"email": "f@example.org", "password": PASSWORD})
    for nxt, expected in [("/cpt/27252/", "/cpt/27252/"), ("https://evil.example/", "/"),
                          ("//evil.example", "/"), ("/\\evil", "/")]:
        r = c.post("/gate/login", data={"email": "f@example.org", "password": PASSWORD, "next": nxt},
                   follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == expected
    bad = c.post("/gate/login", data={"email": "f@example.org", "password": "wrong wrong", "next": "/x/"},
                 follow_redirects=False)
    # The login form again, with the message and the page to return to (tests/test_gate_nojs.py).
    assert bad.status_code == 200 and "Wrong email or password." in bad.text
    out = c.post("/gate/logout", data={"next": "/cpt/"}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/cpt/"


def test_login_rate_limit_per_account(make: Factory) -> None:
    c = make(CODEREF_LOGIN_FAILURES_PER_ACCOUNT="3")
    c.post("/gate/register", json={"email": "rl@example.org", "password": PASSWORD})
    for _ in range(3):
        assert (
            c.post("/gate/login", json={"email": "rl@example.org", "password": "wrong guess"}).status_code
            == 401
        )
    r = c.post("/gate/login", json={"email": "rl@example.org", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"  # even the right password waits
    other = c.post("/gate/login", json={"email": "other@example.org", "password": "whatever else"})
    assert other.status_code == 401


def test_login_rate_limit_per_ip_and_default_ceiling(make: Factory, root: Path) -> None:
    c = make(CODEREF_LOGIN_FAILURES_PER_IP="2")
    for i in range(2):
        c.post("/gate/login", json={"email": f"u{i}@example.org", "password": "wrong guess"})
    assert c.post("/gate/login", json={"email": "u9@example.org", "password": "x" * 9}).status_code == 429
    assert settings_for(root).login_fail_account <= 100


def test_registration_rate_limit_per_ip(make: Factory) -> None:
    c = make(CODEREF_REGISTRATIONS_PER_IP="2")
    assert c.post("/gate/register", json={"email": "r1@example.org", "password": PASSWORD}).status_code == 201
    assert c.post("/gate/register", json={"email": "r2@example.org", "password": PASSWORD}).status_code == 201
    r = c.post("/gate/register", json={"email": "r3@example.org", "password": PASSWORD})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"


def test_forwarded_for_is_ignored_unless_trusted(make: Factory) -> None:
    c = make(CODEREF_REGISTRATIONS_PER_IP="1")
    c.post("/gate/register", json={"email": "x1@example.org", "password": PASSWORD})
    spoof = c.post("/gate/register", json={"email": "x2@example.org", "password": PASSWORD},
                   headers={"X-Forwarded-For": "203.0.113.9"})
    assert spoof.status_code == 429
    trusted = make(CODEREF_REGISTRATIONS_PER_IP="1", CODEREF_TRUST_PROXY="1")
    h = {"X-Forwarded-For": "203.0.113.10"}
    assert trusted.post("/gate/register", json={"email": "y1@example.org", "password": PASSWORD},
                        headers=h).status_code == 201
    assert trusted.post("/gate/register", json={"email": "y2@example.org", "password": PASSWORD},
                        headers={"X-Forwarded-For": "203.0.113.11"}).status_code == 201


def test_guest_ip_cap_across_guest_cookies(root: Path) -> None:
    (root / "content").mkdir()
    (root / "content" / "site.yml").write_text("meter:\n  guest_ip_cap: 2\n", encoding="utf-8")
    app = create_app(root, settings=settings_for(root))
    results = []
    for cs, code in [("cpt", "27252"), ("cpt", "27253"), ("cpt", "99201")]:
        with client(app) as fresh:  # a new browser each time, same IP
            results.append(unlock(fresh, cs, code).status_code)
    assert results == [200, 200, 402]


@pytest.mark.parametrize("headers", [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Referer": "https://evil.example/page"},
])
def test_cross_site_posts_are_refused_and_consume_nothing(make: Factory, headers: dict[str, str]) -> None:
    c = make()
    for path in ("/gate/unlock/cpt/27252", "/gate/logout", "/gate/password"):
        r = c.post(path, headers=headers)
        assert r.status_code == 403 and r.json()["error"] == "cross_site"
    r = c.post("/gate/register", json={"email": "c@example.org", "password": PASSWORD}, headers=headers)
    assert r.status_code == 403
    s = c.get("/gate/session").json()
    assert s["views_used"] == 0 and s["account"] is None
    assert c.post("/gate/unlock/cpt/27252", headers={"Origin": "http://testserver",
                                                     "Sec-Fetch-Site": "same-origin"}).status_code == 200


def test_every_gate_response_is_no_store_with_security_headers(make: Factory) -> None:
    c = make()
    responses = [c.get("/gate/session"), unlock(c, "cpt", "27252"), unlock(c, "cpt", "27253"),
                 c.get("/gate/nope"), c.get("/gate/unlock/cpt/27252"), c.get("/gate/page/cpt/27252/"),
                 c.post("/gate/login", content=b"{", headers={"content-type": "application/json"}),
                 c.get("/gate/account", follow_redirects=False)]
    for r in responses:
        assert r.headers["cache-control"] == "no-store, private", r.url
        assert r.headers["vary"] == "Cookie"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert "default-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"]


@pytest.mark.parametrize("body,ctype,status", [
    (b"{", "application/json", 400),
    (b"[1,2]", "application/json", 400),
    (b'{"email": 5}', "application/json", 400),
    (b"\xff\xfe", "application/json", 400),
    (b"email=%ff", "application/x-www-form-urlencoded", 400),
    (b"x" * 20000, "application/json", 413),
    (b"<xml/>", "text/xml", 415),
])
def test_malformed_bodies_get_clear_4xx(make: Factory, body: bytes, ctype: str, status: int) -> None:
    r = make().post("/gate/login", content=body, headers={"content-type": ctype})
    assert r.status_code == status
    assert r.json()["message"]


@pytest.mark.parametrize("path,status", [
    ("/gate/unlock/cpt/00000", 404), ("/gate/unlock/nosuchset/27252", 404), ("/gate/unlock/cpt/..%2F..", 404),
    ("/gate/unlock/cpt/" + "9" * 300, 404), ("/gate/unlock/cpt/%00", 404), ("/gate/unlock/cpt", 404),
])
def test_weird_unlock_paths_are_4xx(make: Factory, path: str, status: int) -> None:
    c = make()
    r = c.post(path)
    assert r.status_code == status and r.json()["message"]
    assert c.get("/gate/session").json()["views_used"] == 0


def test_gate_page_no_js_path(make: Factory) -> None:
    c = make()
    page = c.get("/gate/page/cpt/27252/")
    assert page.status_code == 200 and "PROTECTED" not in page.text
    assert page.text.count('action="/gate/unlock/cpt/27252"') == 2
    assert "Unlock (uses 1 of 1 views)" in page.text
    assert "Public description of 27252" in page.text
    form = c.post("/gate/unlock/cpt/27252", data={},
                  headers={"content-type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"] == "/gate/page/cpt/27252/"
    page = c.get("/gate/page/cpt/27252/")
    assert secret_of("cpt", "27252") in page.text and secret_of("cpt", "27252", "ncci") in page.text
    assert "<!--premium:excludes1-->" in page.text and "Register to view content" not in page.text
    wall = c.get("/gate/page/cpt/27253/")
    assert "PROTECTED" not in wall.text and 'href="/register/?next=/gate/page/cpt/27253/"' in wall.text
    assert 'action="/gate/unlock' not in wall.text
    assert c.get("/gate/page/cpt/00000/").status_code == 404


def test_account_page(make: Factory) -> None:
    c = make()
    r = c.get("/gate/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login/")
    c.post("/gate/register", json={"email": "acc@example.org", "password": PASSWORD})
    unlock(c, "hcpcs", "A0021")
    html = c.get("/gate/account").text
    assert "acc@example.org" in html and "Free" in html and "1 of 6" in html
    assert 'href="/gate/page/hcpcs/A0021/"' in html and "/assets/coderef.abc123.css" in html


def test_database_unavailable_is_503_and_leaks_nothing(root: Path) -> None:
    url = "postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=1"
    # Each request waits CODEREF_DB_WAIT for a pooled connection that never comes: 1 s, not 5.
    with client(create_app(root, settings=settings_for(root, url, CODEREF_DB_WAIT="1"))) as c:
        for r in (c.get("/gate/session"), unlock(c, "cpt", "27252"),
                  c.post("/gate/login", json={"email": "a@example.org", "password": PASSWORD})):
            assert r.status_code == 503
            assert (
                r.json()["error"] == "unavailable" and "127.0.0.1" not in r.text and "PROTECTED" not in r.text
            )
            assert r.headers["cache-control"] == "no-store, private" and int(r.headers["retry-after"]) > 0


def test_missing_store_is_503(root: Path) -> None:
    os.remove(root / "var" / "protected.sqlite")
    with client(create_app(root, settings=settings_for(root))) as c:
        assert unlock(c, "cpt", "27252").status_code == 503


def test_site_symlink_swaps_are_followed(root: Path) -> None:
    (root / "site").rename(root / "build-1")
    (root / "site").symlink_to(root / "build-1")
    with client(create_app(root, settings=settings_for(root))) as c:
        assert "Public description" in c.get("/cpt/27252/").text
        import shutil
        shutil.copytree(root / "build-1", root / "build-2")
        (root / "build-2" / "index.html").write_text("<p>second build</p>")
        (root / "site.tmp").symlink_to(root / "build-2")
        os.replace(root / "site.tmp", root / "site")
        assert "second build" in c.get("/").text
        assert "PROTECTED" not in c.get("/gate/page/cpt/27252/").text


def test_gate_only_app_does_not_serve_the_site(root: Path) -> None:
    with client(create_gate_app(root, settings=settings_for(root))) as c:
        assert c.get("/gate/session").status_code == 200
        assert c.get("/cpt/27252/").status_code == 404


def test_secure_cookies_over_https(root: Path) -> None:
    app = create_app(root, settings=settings_for(root))
    with client(app) as c:
        c.base_url = "https://testserver"  # type: ignore[misc]
        r = c.post("https://testserver/gate/register", json={"email": "s@example.org", "password": PASSWORD})
        cookie = r.headers["set-cookie"]
        assert cookie.startswith("__Host-coderef_session=")
        for flag in ("HttpOnly", "Secure", "Path=/", "SameSite=lax"):
            assert flag in cookie
        assert "Domain" not in cookie
    with client(app) as plain:
        r = plain.post("/gate/register", json={"email": "s2@example.org", "password": PASSWORD})
        assert (
            r.headers["set-cookie"].startswith("coderef_session=") and "Secure" not in r.headers["set-cookie"]
        )


def test_unlock_over_https_reads_the_host_prefixed_cookie(root: Path) -> None:
    """The JSON unlock path finds the account behind a `__Host-` cookie (HTTPS) and not a plain one."""
    with client(create_app(root, settings=settings_for(root))) as c:
        c.base_url = "https://testserver"  # type: ignore[misc]
        r = c.post("https://testserver/gate/register", json={"email": "h@example.org", "password": PASSWORD})
        assert r.status_code == 201
        r = c.post("https://testserver/gate/unlock/cpt/27252")
        assert r.status_code == 200 and r.json()["views_left"] == 5
        session = c.cookies.get("__Host-coderef_session")
    # The same cookie under the plain name.
    with client(create_app(root, settings=settings_for(root))) as plain:
        plain.cookies.set("coderef_session", session)
        r = plain.post("https://testserver/gate/unlock/cpt/27253")
        assert r.status_code == 200 and r.json()["views_left"] == 0  # a guest: its one view


def test_unlock_speed_sanity(make: Factory) -> None:
    """Not a benchmark: re-views must not run argon2 or take a write lock (they'd be 10× slower)."""
    c = make()
    unlock(c, "cpt", "27252")
    start = time.perf_counter()
    for _ in range(50):
        unlock(c, "cpt", "27252")
    assert (time.perf_counter() - start) / 50 < 0.02
