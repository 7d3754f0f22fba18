"""The consult first answer is CasePilot's, over real SMTP on loopback: a question mailed to the consult
server (aiosmtpd) gets CasePilot's cited answer at the stand-in relay (aiosmtpd) within seconds, marked
automatic, with the case number and its sources as absolute links; "I don't know" says so and lists the
pages our search finds. The same answer appears, with live links, in the asker's thread."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from casepilot_kit import assistant_yml, build_casepilot_project
from conftest import shared_data
from fixtures.gate.sitekit import settings_for
from fixtures.mail.consultkit import consult_server, question, send
from fixtures.mail.gatekit import gate_client, gate_root
from fixtures.mail.relaykit import Received, Recorder, relay, url_of

from gate.accounts import passwords, roles
from gate.accounts import records as accounts
from gate.assistant import CasePilot
from gate.consult.answers import SearchAnswerer
from gate.consult.pilot import PilotAnswerer, pilot_question
from gate.db import Database
from generator.assistant_facts import facts_path
from generator.store_reader import StoreReader

PASSWORD = "a long enough passphrase"
ASKER, CONSULTANT = "ann@example.org", "carl@example.org"
ADDRESS = "ask@codes.example.org"
SITE = "https://codes.example.org"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    shared_data()  # the NCCI and modifier slices of ../shared/data/fixtures are imported
    yml = assistant_yml() + "consult:\n  plans: {free: 100, paid: null}\n  sender_rate: 1000\n"
    root = build_casepilot_project(tmp_path_factory.mktemp("consult-pilot") / "proj", yml)
    with relay() as (rec, ctl):
        env = {"CODEREF_SMTP_URL": url_of(ctl), "CODEREF_MAIL_POLL": "0.05", "CODEREF_MAIL_RETRY_BASE": "0.1"}
        settings = settings_for(root, None, **env)
        db = Database(None, settings.sqlite_path)
        ph = passwords.hasher(2, 19456, 1)
        for email in (ASKER, CONSULTANT):
            db.call(accounts.create, email, passwords.hash_password(ph, PASSWORD), "free", int(time.time()))
        db.call(roles.grant, db.call(accounts.find, CONSULTANT).id, "consultant")
        with gate_client(root, **env) as asker, consult_server(settings) as srv:
            assert asker.post("/gate/login", json={"email": ASKER, "password": PASSWORD}).status_code == 200
            yield {"rec": rec, "port": srv.port, "asker": asker, "db": db, "root": root}
        db.close()


def mail_to(rec: Recorder, to: str, subject_part: str, timeout: float = 20) -> Received:
    deadline = time.monotonic() + timeout
    while True:
        got = [
            r for r in list(rec.received) if r.rcpt_tos == [to] and subject_part in str(r.message["Subject"])
        ]
        if got:
            assert len(got) == 1, [r.message["Subject"] for r in got]
            return got[0]
        assert time.monotonic() < deadline, [(r.rcpt_tos, r.message["Subject"]) for r in rec.received]
        time.sleep(0.05)


def ask_by_mail(world: dict[str, Any], subject: str, text: str) -> tuple[Received, float]:
    """Mails the question; returns the automatic answer the asker received and how long it took."""
    started = time.monotonic()
    send(world["port"], question(ASKER, ADDRESS, subject, text), ASKER, [ADDRESS])
    auto = mail_to(world["rec"], ASKER, subject)
    return auto, time.monotonic() - started


def text_of(mail: Received) -> str:
    return mail.text.replace("\r\n", "\n")


def case_of(auto: Received) -> int:
    m = re.search(r"\[case #(\d+)\]", str(auto.message["Subject"]))
    assert m, auto.message["Subject"]
    return int(m.group(1))


def assert_automatic(auto: Received, took: float) -> None:
    assert took < 10  # within seconds
    assert auto.message["Auto-Submitted"] == "auto-replied"
    text = text_of(auto)
    assert "automatic answer from CasePilot, our coding assistant" in text
    assert "queued for a human coding consultant" in text
    assert f"Case number: #{case_of(auto)}" in text
    assert f"{SITE}/account/consult/{case_of(auto)}/" in text


# (subject, question, what the answer must say, the absolute links it must cite)
ANSWERED = [
    (
        "Code question",
        "Hello, is S72.001 billable? Thanks, Ann",
        ["S72.001", "Fracture of unspecified part of neck of right femur", "Not billable", "7th character"],
        [f"{SITE}/icd-10-cm/S72.001/", f"{SITE}/icd-10-cm/S72.001A/"],
    ),
    (
        "NCCI pair with an edit",
        "We got a denial. Can 99213 and 11042 be billed on the same day?",
        ["column 1 11042, column 2 99213", "modifier indicator 1", "modifier allowed"],
        [f"{SITE}/cpt/99213/", f"{SITE}/cpt/11042/"],
    ),
    (
        "NCCI pair without an edit",
        "can 93000 and 99213 go on one claim together",
        ["No NCCI procedure-to-procedure edit pairs", "93000", "99213"],
        [f"{SITE}/cpt/93000/", f"{SITE}/cpt/99213/"],
    ),
    (
        "Modifier question",
        "When do I use modifier 25?",
        ["Modifier 25", "NCCI-associated modifier"],
        [f"{SITE}/guides/modifier-25/#"],
    ),
    (
        "Modifier meaning",
        "what does modifier 59 mean",
        ["Modifier 59", "NCCI-associated modifier"],
        [f"{SITE}/guides/modifier-59-and-x-modifiers/#"],
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize(("subject", "text", "says", "cites"), ANSWERED, ids=[a[0] for a in ANSWERED])
def test_mailed_question_gets_casepilots_cited_answer(
    world: dict[str, Any], subject: str, text: str, says: list[str], cites: list[str]
) -> None:
    auto, took = ask_by_mail(world, subject, text)
    assert_automatic(auto, took)
    body = text_of(auto)
    for fact in says:
        assert fact in body, (fact, body)
    sources = body.split("\nSources:\n", 1)[1]
    for url in cites:
        assert re.search(r"^  " + re.escape(url), sources, re.M), (url, sources)
    assert not re.search(r"^  /", sources, re.M)  # every source link is absolute
    assert "does not know" not in body
    # Queued for a human: the consultant is told, with the automatic answer quoted.
    note = mail_to(world["rec"], CONSULTANT, f"[case #{case_of(auto)}]")
    quoted = text_of(note).split("The automatic first answer was:", 1)[1]
    assert f"/consult/inbox/{case_of(auto)}/" in note.text
    assert any(line.startswith("> ") and says[0] in line for line in quoted.splitlines()), quoted


@pytest.mark.slow
def test_unknown_topic_says_so_and_lists_search_pages(world: dict[str, Any]) -> None:
    auto, took = ask_by_mail(world, "Off topic", "What will the weather be in Paris tomorrow?")
    assert_automatic(auto, took)
    body = text_of(auto)
    assert "CasePilot, our coding assistant, does not know the answer" in body
    assert "Sources:" not in body and "Questions I can answer" not in body
    assert "Our search found no code page for the codes or words in your question" in body


@pytest.mark.slow
def test_unknown_code_says_so_and_lists_pages_for_its_words(world: dict[str, Any]) -> None:
    auto, took = ask_by_mail(world, "Unknown code", "What is E11.65 for diabetes?")
    assert_automatic(auto, took)
    body = text_of(auto)
    assert "There is no such code E11.65 in ICD-10-CM" in body
    assert "These code pages on our site match the codes and words in your question" in body
    assert f"{SITE}/icd-10-cm/E11.9/" in body  # diabetes codes, found by the question's words


@pytest.mark.slow
def test_long_mail_is_read_by_its_questions(world: dict[str, Any]) -> None:
    story = "Our practice saw the patient for a follow-up visit and also treated a wound that day. " * 8
    auto, took = ask_by_mail(world, "Long story", story + "Can 99213 and 11042 be billed together? " + story)
    assert_automatic(auto, took)
    body = text_of(auto)
    assert "CasePilot read your question as: \u201cCan 99213 and 11042 be billed together?\u201d" in body
    assert "column 1 11042, column 2 99213" in body


@pytest.mark.slow
def test_web_form_question_answered_in_the_thread_with_links(world: dict[str, Any]) -> None:
    asker = world["asker"]
    r = asker.post(
        "/consult/",
        data={"subject": "Asked on the web", "question": "Is S72.001 billable?"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    case_id = int(r.headers["location"].rstrip("/").rsplit("/", 1)[1])
    auto = mail_to(world["rec"], ASKER, f"[case #{case_id}]")
    assert "Not billable" in auto.text
    thread = asker.get(f"/account/consult/{case_id}/").text
    assert thread.index("Is S72.001 billable?") < thread.index("Automatic first answer") < thread.index(
        "Not billable"
    )
    assert f'<a href="{SITE}/icd-10-cm/S72.001/">{SITE}/icd-10-cm/S72.001/</a>' in thread


@pytest.mark.parametrize(
    ("text", "read", "shortened"),
    [
        ("What is E11.9?", "What is E11.9?", False),
        ("  What\n is\tE11.9?  ", "What is E11.9?", False),
        ("x. " * 300 + "What is E11.9? " + "y. " * 300 + "And 99213?", "What is E11.9? And 99213?", True),
        ("word " * 200, ("word " * 100)[:-1], True),  # no sentence ends: its first words
        ("A story. " * 100, ("A story. " * 55).strip(), True),  # no question mark: the first sentences
    ],
)
def test_pilot_question_keeps_the_asking_sentences(text: str, read: str, shortened: bool) -> None:
    got, cut = pilot_question(text)
    assert (got, cut) == (read, shortened)
    assert len(got) <= 500


def test_without_facts_the_first_answer_says_so_and_lists_search_pages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = gate_root(tmp_path)  # a store and code pages, no CasePilot facts
    site = settings_for(root).site
    search = SearchAnswerer(site, StoreReader(site.store_path))
    answerer = PilotAnswerer(CasePilot(facts_path(site)), search, SITE)
    try:
        with caplog.at_level(logging.ERROR, logger="coderef.consult"):
            first = answerer("Is 27252 right for a hip dislocation?")
    finally:
        answerer.close()
    assert first.by == "search"
    assert first.text.startswith("CasePilot, our coding assistant, could not answer this time.")
    assert f"{SITE}/cpt/27252/" in first.text and first.sources[0].url == f"{SITE}/cpt/27252/"
    assert "coderef build" in caplog.text  # the log says what to do


@pytest.mark.slow
def test_the_account_pages_consult_line_as_json(world: dict[str, Any]) -> None:
    r = world["asker"].get("/gate/consult/quota")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store, private"
    assert re.fullmatch(r"\d+ of 100 questions used this period; renews \d{4}-\d\d-\d\d", r.json()["message"])


def test_thread_links_are_escaped_and_only_http() -> None:
    from gate.consult.web import linked

    html = str(linked('<b>x</b> see https://a.example/p?q=1&r="2" and javascript:alert(1), https://b.example/c/.'))
    assert html.startswith("&lt;b&gt;x&lt;/b&gt; see ")
    assert '<a href="https://a.example/p?q=1&amp;r=">https://a.example/p?q=1&amp;r=</a>&quot;2&quot;' in html
    # The full stop after a URL is not part of it.
    assert '<a href="https://b.example/c/">https://b.example/c/</a>.' in html
    assert "javascript:alert(1)" in html and html.count("<a ") == 2


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", "   ", "?!?", "\x00\x01"])
def test_a_question_without_words_gets_the_search_answer(world: dict[str, Any], text: str) -> None:
    site = settings_for(world["root"]).site
    search = SearchAnswerer(site, StoreReader(site.store_path))
    answerer = PilotAnswerer(CasePilot(facts_path(site)), search, SITE)
    try:
        first = answerer(text)
    finally:
        answerer.close()
    assert first.by == "search" and first.sources == []
    assert first.text.startswith("CasePilot, our coding assistant, found no question in words to answer.")
