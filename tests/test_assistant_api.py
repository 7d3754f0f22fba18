"""POST /gate/ask and GET /gate/asks through Starlette's TestClient on a small built project."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from casepilot_kit import assistant_yml, casepilot_small  # noqa: F401 (fixture)
from fixtures.gate.sitekit import client, settings_for

from gate.app import create_app

PASSWORD = "a long enough passphrase"


@pytest.fixture()
def root(casepilot_small: Path, tmp_path: Path) -> Path:  # noqa: F811
    dest = tmp_path / "proj"
    shutil.copytree(casepilot_small, dest, symlinks=True)
    return dest


@pytest.fixture()
def c(root: Path) -> Iterator[Any]:
    with client(create_app(root, settings=settings_for(root))) as tc:
        yield tc


def ask(c: Any, question: str, context: str = "", **headers: str) -> Any:
    return c.post("/gate/ask", json={"question": question, "context": context}, headers=headers)


def test_answer_shape_citations_and_headers(c: Any) -> None:
    r = ask(c, "is s72001a billable?")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"answer", "citations", "asks_left"}
    assert set(body["answer"]) == {"html", "text"}
    assert "S72.001A" in body["answer"]["text"] and "Billable" in body["answer"]["text"]
    assert {
        "url": "/icd-10-cm/S72.001A/",
        "title": body["citations"][0]["title"],
        "release": body["citations"][0]["release"],
    } == body["citations"][0]
    assert body["citations"][0]["release"].startswith("ICD-10-CM")
    assert body["asks_left"] == 1
    assert r.headers["cache-control"] == "no-store, private"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert any(k.startswith("__Host-") or "guest" in k for k in c.cookies)


def test_guest_allowance_wall_then_free_account(c: Any) -> None:
    assert ask(c, "What is E11.9?").json()["asks_left"] == 1
    assert c.get("/gate/asks").json()["message"] == "1 question left today."
    assert ask(c, "What is E11.9?").json()["asks_left"] == 0
    wall = ask(c, "What is E11.9?")
    assert wall.status_code == 402
    assert wall.json()["error"] == "asks_exhausted" and wall.json()["reason"] == "guest_limit"
    assert "Create a free account" in wall.json()["message"]
    assert (
        c.post("/gate/register", json={"email": "pilot@example.org", "password": PASSWORD}).status_code == 201
    )
    again = ask(c, "What is E11.9?")
    assert again.status_code == 200 and again.json()["asks_left"] == 19
    assert c.get("/gate/asks").json()["message"] == "19 questions left this month."


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"question": ""}, "empty_question"),
        ({"question": "   \n\t "}, "empty_question"),
        ({"question": "?!?!"}, "empty_question"),
        ({"question": "x" * 501}, "question_too_long"),
        ({}, "empty_question"),
    ],
)
def test_bad_questions_are_400_and_cost_nothing(c: Any, payload: dict[str, str], code: str) -> None:
    r = c.post("/gate/ask", json=payload)
    assert r.status_code == 400 and r.json()["error"] == code and r.json()["message"]
    assert c.get("/gate/asks").json()["asks_left"] == 2


def test_malformed_bodies_are_4xx(c: Any) -> None:
    assert (
        c.post(
            "/gate/ask", content=b"\xff\xfe\x00binary", headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        c.post("/gate/ask", content=b"{not json", headers={"content-type": "application/json"}).status_code
        == 400
    )
    assert c.post("/gate/ask", json={"question": ["a"]}).status_code == 400
    assert (
        c.post("/gate/ask", content=b"question=hi", headers={"content-type": "text/plain"}).status_code == 415
    )
    assert (
        c.post("/gate/ask", content=b"a" * 100_000, headers={"content-type": "application/json"}).status_code
        == 413
    )
    assert c.get("/gate/ask").status_code == 405


@pytest.mark.parametrize(
    "question",
    [
        "<script>alert(1)</script> what is E11.9",
        '"><img src=x onerror=alert(1)> LCD for <b>cardiac</b> rehabilitation',
        "code for <svg onload=alert(1)> wrist",
        "What is <i>Z99.99</i>?",
    ],
)
def test_answer_html_is_escaped(c: Any, question: str) -> None:
    r = ask(c, question)
    assert r.status_code == 200
    html = r.json()["answer"]["html"]
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<i>" not in html
    assert "<b>" not in html


def test_unknown_and_ambiguous_codes(c: Any) -> None:
    body = ask(c, "What is Z99.99?").json()
    assert body["kind"] == "no_code" and "no such code Z99.99 in ICD-10-CM FY2026" in body["answer"]["text"]
    assert body["citations"] == []


def test_cross_site_post_is_refused(c: Any) -> None:
    r = ask(c, "What is E11.9?", Origin="https://evil.example")
    assert r.status_code == 403 and r.json()["error"] == "cross_site"
    assert ask(c, "What is E11.9?", **{"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert c.get("/gate/asks").json()["asks_left"] == 2


def test_rate_limit_is_429(root: Path) -> None:
    (root / "content" / "site.yml").write_text(
        assistant_yml("guest: {asks: null}\n    free: {asks: null}\n    paid: {asks: null}", 3)
    )
    with client(create_app(root, settings=settings_for(root))) as tc:
        assert [ask(tc, "What is E11.9?").status_code for _ in range(4)] == [200, 200, 200, 429]
        r = ask(tc, "What is E11.9?")
        assert (
            r.status_code == 429 and r.headers["retry-after"] == "60" and r.json()["error"] == "rate_limited"
        )


def test_no_javascript_form_renders_the_answer_page(c: Any) -> None:
    r = c.post("/gate/ask", data={"question": "What is E11.9?", "context": "icd-10-cm/E11.9"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "Type 2 diabetes mellitus without complications" in r.text
    assert '<a href="/icd-10-cm/E11.9/">' in r.text and "1 question left today." in r.text
    assert "CasePilot, the coding assistant" in r.text  # the theme's page around it
    empty = c.post("/gate/ask", data={"question": ""})
    assert empty.status_code == 400 and "Ask a question in words" in empty.text
    c.post("/gate/ask", data={"question": "What is E11.9?"})
    wall = c.post("/gate/ask", data={"question": "What is E11.9?"})
    assert wall.status_code == 402 and "Create free account" in wall.text


def test_context_is_the_page_code(c: Any) -> None:
    body = ask(c, "is it billable?", "icd-10-cm/S72.001").json()
    assert "S72.001" in body["answer"]["text"] and "7th character" in body["answer"]["text"]
    assert body["citations"][0]["url"] == "/icd-10-cm/S72.001/"


def test_code_pages_carry_the_box_and_casepilot_pages_exist(root: Path) -> None:
    page = (root / "site" / "icd-10-cm" / "E11.9" / "index.html").read_text()
    assert "Have a question about ICD-10-CM E11.9?" in page
    assert 'name="context" value="icd-10-cm/E11.9"' in page and 'action="/gate/ask"' in page
    browse = root / "site" / "icd-10-cm" / "chapter-4" / "index.html"
    assert not browse.exists() or "Have a question about" not in browse.read_text()
    cp = (root / "site" / "casepilot" / "index.html").read_text()
    for topic in (
        "CPT Codes",
        "Guidelines",
        "Modifiers",
        "Crosswalks",
        "NCCI Edits",
        "Compliance",
        "Medicare Coverage",
    ):
        assert topic in cp
    guides = (root / "site" / "guides" / "index.html").read_text()
    assert "Modifier 25" in guides and "root operations" in guides
    guide = (root / "site" / "guides" / "ncci-basics" / "index.html").read_text()
    assert "Official sources summarised" in guide and "NCCI Policy Manual" in guide


def _card(plans_html: str, name: str) -> str:
    card = rf'<article class="plan-card[^"]*"[^>]*data-plan="{name}">(.*?)</article>'
    m = re.search(card, plans_html, re.S)
    assert m, plans_html
    return m.group(1)


def test_questions_left_on_plans_and_account_pages(c: Any, root: Path) -> None:
    plans = c.get("/plans/").text
    assert re.search(r"<strong data-ask-left>2 questions left today\.</strong>", plans)
    assert "As a guest: 2 CasePilot questions a day." in plans
    assert "20 CasePilot questions a month" in _card(plans, "free")
    assert "Unlimited CasePilot questions" in _card(plans, "paid")
    ask(c, "What is E11.9?")
    assert "<strong data-ask-left>1 question left today.</strong>" in c.get("/plans/").text
    member = {"email": "left@example.org", "password": PASSWORD}
    assert c.post("/gate/register", json=member).status_code == 201
    ask(c, "What is E11.9?")
    # The account page without JavaScript (the gate fills it), and the built one the script fills.
    account = c.get("/gate/account").text
    assert re.search(r"<dd data-ask-left>19 questions left this month\.</dd>", account), account
    assert "<dd data-ask-left></dd>" in (root / "site" / "account" / "index.html").read_text()
    plans = c.get("/plans/").text
    assert "<strong data-ask-left>19 questions left this month.</strong>" in plans
    assert "As a guest" not in plans


def test_bench_mode_times_the_answers_in_the_server(root: Path) -> None:
    from gate.timing import percentiles

    assert percentiles([]) == {"n": 0, "p50": 0.0, "p99": 0.0}
    assert percentiles([0.001 * i for i in range(1, 101)]) == {"n": 100, "p50": 51.0, "p99": 100.0}
    with client(create_app(root, settings=settings_for(root))) as plain:
        assert plain.get("/__bench/timings").status_code == 404  # only in bench mode
    with client(create_app(root, settings=settings_for(root, CODEREF_BENCH="1"))) as c:
        assert c.get("/__bench/timings").json()["n"] == 0
        for q in ("What is E11.9?", "Is S72.001 billable?"):
            assert ask(c, q).status_code == 200
        c.get("/gate/asks")  # not an answer: not timed
        timed = c.get("/__bench/timings?reset=1").json()
        assert timed["n"] == 2 and 0 < timed["p50"] <= timed["p99"] < 5000
        assert c.get("/__bench/timings").json()["n"] == 0


@pytest.mark.parametrize(
    "question",
    [
        "How do I appeal a denial from Aetna?",
        "How do I appeal a denial from Aetna for lunch breaks?",
        "Who is the CEO of CMS?",
        "What will the weather be in Paris tomorrow?",
    ],
)
def test_off_topic_questions_get_i_dont_know_not_a_one_word_match(c: Any, question: str) -> None:
    # One common word ("from", "weather") once matched a guide passage or code titles and was shown as
    # the answer; a question that asks for no code needs two of its words, and half, to match.
    body = ask(c, question).json()
    assert (body["kind"], body["topic"]) == ("unknown", "unknown"), body["answer"]["text"][:300]
    assert body["citations"] == [] and "I don't know" in body["answer"]["text"]


def test_asking_for_a_code_by_words_still_finds_it(c: Any) -> None:
    body = ask(c, "code for a broken wrist").json()
    assert body["topic"] == "find" and body["citations"]


def test_a_client_gone_before_its_body_is_whole_is_a_4xx_not_a_500(root: Path) -> None:
    """A Content-Length larger than what the client sends, then the connection drops: uvicorn hands the app
    `http.disconnect`; the gate answers 400 (to nobody) instead of raising ClientDisconnect as a 500."""
    app = create_app(root, settings=settings_for(root))
    body = b'{"question": "What is E11.9?"}'
    sent: list[dict[str, Any]] = []

    async def call(path: str) -> None:
        messages = [
            {"type": "http.request", "body": body[:10], "more_body": True},
            {"type": "http.disconnect"},
        ]

        async def receive() -> dict[str, Any]:
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"origin", b"http://testserver"),
                        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        }
        await app(scope, receive, send)

    with client(app) as tc:  # started: the gate's database and assistant are open
        for path in ("/gate/ask", "/gate/login"):
            sent.clear()
            tc.portal.call(call, path)
            start = next(m for m in sent if m["type"] == "http.response.start")
            assert start["status"] == 400, path
            assert b"ended before its declared length" in b"".join(
                m.get("body", b"") for m in sent if m["type"] == "http.response.body"
            )
