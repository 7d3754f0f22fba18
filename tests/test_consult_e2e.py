"""CaseConsultant end to end with real SMTP on loopback: the consult server (aiosmtpd) receives, a
stand-in relay (aiosmtpd) records what the site sends, the gate serves the web inbox and threads."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import settings_for
from fixtures.mail.consultkit import consult_server, question, reply_code, send
from fixtures.mail.gatekit import gate_client, gate_root
from fixtures.mail.relaykit import Received, Recorder, relay, url_of

from gate.accounts import passwords, roles
from gate.accounts import records as accounts
from gate.consult import cases
from gate.db import Database

PASSWORD = "a long enough passphrase"
ASKER, CONSULTANT = "ann@example.org", "carl@example.org"
ADDRESS = "ask@codes.example.org"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root = gate_root(tmp_path)
    with relay() as (rec, ctl):
        env = {"CODEREF_SMTP_URL": url_of(ctl), "CODEREF_MAIL_POLL": "0.05", "CODEREF_MAIL_RETRY_BASE": "0.1"}
        settings = settings_for(root, None, **env)
        db = Database(None, settings.sqlite_path)
        ph = passwords.hasher(2, 19456, 1)
        db.call(accounts.create, CONSULTANT, passwords.hash_password(ph, PASSWORD), "free", int(time.time()))
        db.call(roles.grant, db.call(accounts.find, CONSULTANT).id, "consultant")
        with (
            gate_client(root, **env) as asker,
            gate_client(root, **env) as consultant,
            consult_server(settings) as srv,
        ):
            assert (
                asker.post("/gate/register", json={"email": ASKER, "password": PASSWORD}).status_code == 201
            )
            assert (
                consultant.post("/gate/login", json={"email": CONSULTANT, "password": PASSWORD}).status_code
                == 200
            )
            yield {
                "root": root,
                "rec": rec,
                "asker": asker,
                "consultant": consultant,
                "port": srv.port,
                "db": db,
            }
        db.close()


def mails_to(
    rec: Recorder, to: str, subject_part: str, count: int = 1, timeout: float = 20
) -> list[Received]:
    deadline = time.monotonic() + timeout
    while True:
        got = [
            r for r in list(rec.received) if r.rcpt_tos == [to] and subject_part in str(r.message["Subject"])
        ]
        if len(got) >= count:
            return got
        assert time.monotonic() < deadline, [(r.rcpt_tos, r.message["Subject"]) for r in rec.received]
        time.sleep(0.05)


def case_count(db: Database) -> int:
    return int(db.call(lambda conn: conn.one("SELECT COUNT(*) FROM consult_cases"))[0])


@pytest.mark.slow
def test_question_by_mail_to_consultant_reply_and_thread(world: dict[str, Any]) -> None:
    rec, port, asker, consultant = world["rec"], world["port"], world["asker"], world["consultant"]
    q = question(
        ASKER, ADDRESS, "Hip fracture with CPT 27252?", "Is 27252 right for a closed hip dislocation?"
    )
    started = time.monotonic()
    send(port, q, ASKER, [ADDRESS])
    assert case_count(world["db"]) == 1  # stored before 250

    (auto,) = mails_to(rec, ASKER, "[case #1]")
    assert time.monotonic() - started < 10  # within seconds
    assert auto.message["Auto-Submitted"] == "auto-replied"
    assert auto.message["In-Reply-To"] == q["Message-ID"]
    assert "automatic answer" in auto.text and "Case number: #1" in auto.text
    assert "https://codes.example.org/cpt/27252/" in auto.text
    (note,) = mails_to(rec, CONSULTANT, "[case #1]")
    assert "Is 27252 right" in note.text and "/consult/inbox/1/" in note.text

    inbox = consultant.get("/consult/inbox/")
    assert (
        inbox.status_code == 200
        and "Hip fracture with CPT 27252?" in inbox.text
        and "unclaimed" in inbox.text
    )
    assert asker.get("/consult/inbox/").status_code == 403  # not a consultant
    assert consultant.post("/consult/inbox/1/claim", data={}, follow_redirects=False).status_code == 303
    r = consultant.post(
        "/consult/inbox/1/reply",
        data={"text": "Yes: 27252 is the closed treatment code."},
        follow_redirects=False,
    )
    assert r.status_code == 303 and "note=sent" in r.headers["location"]

    (answer,) = mails_to(rec, ASKER, "Re: Hip fracture", 2)[1:]
    assert "27252 is the closed treatment code" in answer.text
    assert answer.message["Auto-Submitted"] is None
    assert q["Message-ID"] in str(answer.message["References"])
    thread = asker.get("/account/consult/1/").text
    assert (
        thread.index("Is 27252 right")
        < thread.index("Automatic first answer")
        < thread.index("closed treatment")
    )
    assert "answered" in thread
    assert "1 of 1 questions used" in asker.get("/account/consult/").text

    # The consultant answers by mail too: a reply to the notification, from the consultant's address.
    follow = question(
        CONSULTANT,
        str(note.message["Reply-To"]),
        f"Re: {note.message['Subject']}",
        "Also check the NCCI edits.\n\nOn Monday someone wrote:\n> quoted question",
        In_Reply_To=note.message_id,
    )
    send(port, follow, CONSULTANT, [str(note.message["Reply-To"])])
    second = mails_to(rec, ASKER, "Re: Hip fracture", 3)[2]
    assert "Also check the NCCI edits." in second.text and "quoted question" not in second.text
    assert "Also check the NCCI edits." in asker.get("/account/consult/1/").text


@pytest.mark.slow
def test_outsiders_cannot_use_a_reply_address(world: dict[str, Any]) -> None:
    rec, port = world["rec"], world["port"]
    send(port, question(ASKER, ADDRESS, "Q", "What is E11.9?"), ASKER, [ADDRESS])
    (note,) = mails_to(rec, CONSULTANT, "[case #1]")
    reply_to = str(note.message["Reply-To"])
    forged = question("mallory@evil.example", reply_to, "Re: Q", "Fake answer")
    send(port, forged, "mallory@evil.example", [reply_to])
    mails_to(rec, "mallory@evil.example", "Re: Q")  # told it was not accepted
    # The asker cannot pose as the consultant with the consultant's address either.
    send(port, question(ASKER, reply_to, "Re: Q", "Self-answer"), ASKER, [reply_to])
    texts = [e.body for e in world["db"].call(cases.thread, 1)]
    assert not any("Fake answer" in t or "Self-answer" in t for t in texts)
    # A made-up case address is refused at RCPT.
    tampered = re.sub(r"\.([a-z2-7]{16})@", ".aaaaaaaaaaaaaaaa@", reply_to)
    code, _ = reply_code(port, b"Subject: x\r\n\r\nx\r\n", ASKER, [tampered])
    assert code == 550


@pytest.mark.slow
def test_unknown_sender_gets_registration_reply_and_nothing_is_stored(world: dict[str, Any]) -> None:
    send(
        world["port"],
        question("stranger@example.net", ADDRESS, "Help", "What is 99213?"),
        "stranger@example.net",
        [ADDRESS],
    )
    (reply,) = mails_to(world["rec"], "stranger@example.net", "Re: Help")
    assert "/register/" in reply.text and reply.message["Auto-Submitted"] == "auto-replied"
    assert case_count(world["db"]) == 0


@pytest.mark.slow
def test_limits_size_recipients_quota(world: dict[str, Any]) -> None:
    port = world["port"]
    big = question(ASKER, ADDRESS, "Big", ("x" * 70 + "\n") * 16_000).as_bytes()
    code, why = reply_code(port, big, ASKER, [ADDRESS])
    assert code == 552, why
    code, _ = reply_code(port, b"", ASKER, ["nobody@codes.example.org"])
    assert code == 550
    assert case_count(world["db"]) == 0
    send(port, question(ASKER, ADDRESS, "First", "What is E11.9?"), ASKER, [ADDRESS])
    send(port, question(ASKER, ADDRESS, "Second", "And E11.65?"), ASKER, [ADDRESS])  # free plan: 1 a month
    (over,) = mails_to(world["rec"], ASKER, "Re: Second")
    assert "used all 1 questions" in over.text
    assert case_count(world["db"]) == 1
