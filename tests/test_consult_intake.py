"""The consult mail server under bad input and faults: broken MIME, odd headers, loops, a database
that is away when mail arrives (451, then stored once)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import settings_for
from fixtures.mail.consultkit import consult_server, question, reply_code, send
from fixtures.mail.gatekit import gate_root

from gate.accounts import passwords
from gate.accounts import records as accounts
from gate.consult import cases, inbound
from gate.db import Database

ASKER = "ann@example.org"
ADDRESS = "ask@codes.example.org"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, Any]]:
    root = gate_root(tmp_path, "consult:\n  plans: {free: 100, paid: null}\n  sender_rate: 1000\n")
    settings = settings_for(root)
    db = Database(None, settings.sqlite_path)
    ph = passwords.hasher(2, 19456, 1)
    db.call(
        accounts.create,
        ASKER,
        passwords.hash_password(ph, "a long enough passphrase"),
        "free",
        int(time.time()),
    )
    with consult_server(settings, background=False) as srv:
        yield {"db": db, "port": srv.port, "server": srv, "settings": settings}
    db.close()


def questions(db: Database) -> list[tuple[str, str]]:
    rows = db.call(
        lambda conn: conn.all(
            "SELECT c.subject, m.body FROM consult_messages m JOIN consult_cases c ON c.id=m.case_id"
            " ORDER BY m.id"
        )
    )
    return [(r[0], r[1]) for r in rows]


def outbox_to(db: Database, to: str) -> int:
    return int(db.call(lambda conn: conn.one("SELECT COUNT(*) FROM mail_outbox WHERE recipient=?", (to,)))[0])


def raw(headers: str, body: str) -> bytes:
    return (headers.strip() + "\r\n\r\n" + body).encode("utf-8", "surrogateescape")


BAD = [
    (
        "broken-multipart",
        raw(
            f"From: {ASKER}\r\nSubject: broken\r\nMessage-ID: <b1@x>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="zzz"',
            "--zzz\r\nContent-Type: text/plain\r\n\r\nQuestion about S72.001A\r\n--zz",
        ),
        "Question about S72.001A",
    ),
    ("no-headers-but-from", raw(f"From: {ASKER}", "Bare question about E11.9"), "Bare question about E11.9"),
    (
        "encoded-word",
        raw(
            f"From: {ASKER}\r\nSubject: =?utf-8?b?w4lwYXVsZSBkb3Vsb3VyZXVzZQ==?=\r\nMessage-ID: <b3@x>",
            "Shoulder pain M25.511",
        ),
        "Shoulder pain M25.511",
    ),
    (
        "html-only",
        raw(
            f"From: {ASKER}\r\nSubject: html\r\nMessage-ID: <b4@x>\r\nContent-Type: text/html; charset=utf-8",
            "<html><body><p>Is <b>99213</b> right?</p><ul><li>new patient</li></ul>"
            "<script>x()</script></body></html>",
        ),
        "Is 99213 right?",
    ),
    (
        "unknown-charset",
        raw(
            f"From: {ASKER}\r\nSubject: cs\r\nMessage-ID: <b5@x>\r\n"
            "Content-Type: text/plain; charset=x-nonsense",
            "Charset question about J45.909",
        ),
        "Charset question about J45.909",
    ),
    (
        "huge-headers",
        raw(
            f"From: {ASKER}\r\nSubject: huge\r\nMessage-ID: <b6@x>\r\n"
            + "".join(f"X-Junk-{i}: {'y' * 900}\r\n" for i in range(600)),
            "Question after huge headers",
        ),
        "Question after huge headers",
    ),
    (
        "attachment",
        raw(
            f"From: {ASKER}\r\nSubject: att\r\nMessage-ID: <b7@x>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b"',
            "--b\r\nContent-Type: text/plain\r\n\r\nSee the EOB\r\n--b\r\nContent-Type: application/pdf\r\n"
            'Content-Disposition: attachment; filename="eob.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            "JVBERi0xLjQK\r\n--b--\r\n",
        ),
        "See the EOB",
    ),
]


@pytest.mark.parametrize("name,data,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_read_and_the_good_mail_around_it_kept(
    env: dict[str, Any], name: str, data: bytes, expected: str
) -> None:
    port, db = env["port"], env["db"]
    send(port, question(ASKER, ADDRESS, "before", "good mail before"), ASKER, [ADDRESS])
    code, _ = reply_code(port, data, ASKER, [ADDRESS])
    assert code == 250
    send(port, question(ASKER, ADDRESS, "after", "good mail after"), ASKER, [ADDRESS])
    got = questions(db)
    assert got[0][1] == "good mail before" and got[-1][1] == "good mail after"
    assert expected in got[1][1]
    if name == "encoded-word":
        assert got[1][0] == "Épaule douloureuse"
    if name == "html-only":
        assert "<b>" not in got[1][1] and "x()" not in got[1][1] and "new patient" in got[1][1]
    if name == "attachment":
        (entry,) = [e for e in db.call(cases.thread, 2)]
        assert [(a.name, a.content_type, a.size) for a in entry.attachments] == [
            ("eob.pdf", "application/pdf", 9)
        ]


def test_8bit_subject_with_smtputf8(env: dict[str, Any]) -> None:
    data = f"From: {ASKER}\r\nSubject: Kn\u00e9e \xff douleur\r\nMessage-ID: <u8@x>\r\n\r\nKnee M17.11\r\n"
    code, _ = reply_code(
        env["port"], data.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"), ASKER, [ADDRESS]
    )
    assert code == 250
    ((subject, body),) = questions(env["db"])
    assert subject.startswith("Kn") and "douleur" in subject and body == "Knee M17.11"


@pytest.mark.parametrize(
    "header", ["Auto-Submitted: auto-replied", "Precedence: bulk", "List-Id: <x.example>"]
)
def test_automatic_mail_is_never_answered(env: dict[str, Any], header: str) -> None:
    db = env["db"]
    data = raw(f"From: {ASKER}\r\nSubject: Out of office\r\nMessage-ID: <ooo@x>\r\n{header}", "I am away")
    assert reply_code(env["port"], data, ASKER, [ADDRESS])[0] == 250
    stranger = raw("From: robot@example.net\r\nSubject: Auto\r\nMessage-ID: <r@x>\r\n" + header, "beep")
    assert reply_code(env["port"], stranger, "robot@example.net", [ADDRESS])[0] == 250
    assert questions(db) == [] and outbox_to(db, ASKER) == 0 and outbox_to(db, "robot@example.net") == 0


def test_bounces_are_never_answered(env: dict[str, Any]) -> None:
    data = raw("From: MAILER-DAEMON@example.net\r\nSubject: Undeliverable\r\nMessage-ID: <bn@x>", "bounce")
    assert reply_code(env["port"], data, "", [ADDRESS])[0] == 250
    assert outbox_to(env["db"], "mailer-daemon@example.net") == 0


def test_unknown_senders_get_few_replies(env: dict[str, Any]) -> None:
    for i in range(6):
        send(env["port"], question("x@example.net", ADDRESS, f"q{i}", "hello"), "x@example.net", [ADDRESS])
    assert outbox_to(env["db"], "x@example.net") == 3  # no backscatter flood


def test_too_many_recipients_452(env: dict[str, Any]) -> None:
    import smtplib

    with smtplib.SMTP("127.0.0.1", env["port"], timeout=10) as smtp:
        smtp.ehlo()
        smtp.mail(ASKER)
        codes = [smtp.rcpt(ADDRESS)[0] for _ in range(12)]
    assert codes[:10] == [250] * 10 and codes[10:] == [452, 452]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_database_away_451_then_the_resent_mail_is_stored_once(
    env: dict[str, Any], tmp_path: Path, engine: str
) -> None:
    handler = env["server"].handler
    real = handler.db
    if engine == "sqlite":
        blocked = tmp_path / "blocked"
        blocked.write_text("a file where the database's folder should be")
        away = Database(None, blocked / "gate.sqlite")
    else:
        # A bounded wait of 1 s for a pooled connection that never comes (CODEREF_DB_WAIT; default 5).
        away = Database("postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=1", tmp_path / "x", wait=1)
    q = question(ASKER, ADDRESS, "Resent", "Which code for a resent question?")
    handler.db = away
    try:
        code, text = reply_code(env["port"], q.as_bytes(), ASKER, [ADDRESS])
        assert code == 451, text
    finally:
        handler.db = real
        away.close()
    assert questions(env["db"]) == []
    for _ in range(2):  # the sending server retries; a duplicate delivery changes nothing either
        assert reply_code(env["port"], q.as_bytes(), ASKER, [ADDRESS])[0] == 250
    assert questions(env["db"]) == [("Resent", "Which code for a resent question?")]


def test_quoted_text_is_stripped_from_replies() -> None:
    text = "Thanks, that helps.\n\nOn Tue, 1 Dec 2026, coderef wrote:\n> Case #1\n> answer\n"
    assert inbound.strip_quoted(text) == "Thanks, that helps."
    assert inbound.strip_quoted("> only quoted") == "> only quoted"
