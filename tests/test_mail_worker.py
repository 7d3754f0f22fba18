"""The delivery worker against a real SMTP relay on loopback (aiosmtpd): delivery, retries, give-up,
STARTTLS/SMTPS with login, DKIM."""

from __future__ import annotations

import dataclasses
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from fixtures.mail.relaykit import relay, url_of
from fixtures.mail.tlskit import dkim_dns_record, rsa_key, self_signed

from gate.db import Conn, Database
from gate.mail import outbox
from gate.mail.message import Message
from gate.mail.settings import MailSettings, parse_smtp_url
from gate.mail.worker import Worker

SENDER = "coderef <no-reply@codes.example.org>"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(None, tmp_path / "gate.sqlite")
    yield database
    database.close()


def settings(url: str, **kw: object) -> MailSettings:
    base = {
        "relay": parse_smtp_url(url, timeout=5),
        "sender": SENDER,
        "retry_base": 0.05,
        "retry_max": 0.2,
        "poll": 0.02,
        "lease": 30.0,
    }
    base.update(kw)
    return MailSettings(**base)  # type: ignore[arg-type]


def enqueue(db: Database, n: int, prefix: str = "u") -> list[str]:
    def add(conn: Conn) -> list[str]:
        with conn.transaction():
            return [
                outbox.enqueue(
                    conn,
                    Message(
                        to=f"{prefix}{i}@example.org", subject=f"Note {i}", text=f"Body {i}", sender=SENDER
                    ),
                )
                for i in range(n)
            ]

    return db.call(add)


def states(db: Database) -> dict[str, str]:
    return {r.message_id: r.status for r in db.call(outbox.listing, None, 1000)}


def test_delivers_each_message_with_its_envelope_and_bytes(db: Database) -> None:
    with relay() as (rec, ctl):
        ids = enqueue(db, 3)
        done = Worker(db, settings(url_of(ctl))).deliver_due()
        assert (done.sent, done.retried, done.failed) == (3, 0, 0)
        got = rec.wait_for(3)
    assert sorted(r.message_id for r in got) == sorted(ids)
    for r in got:
        assert r.mail_from == "no-reply@codes.example.org"
        assert r.rcpt_tos == [str(r.message["To"])]
        assert r.text.strip() == f"Body {r.message['Subject'].split()[-1]}"
    assert set(states(db).values()) == {"sent"}
    assert Worker(db, settings(url_of(ctl))).deliver_due().handled == 0  # nothing left


def test_relay_down_for_a_while_loses_nothing_and_sends_once(db: Database) -> None:
    with relay() as (rec, ctl):
        url = url_of(ctl)
        ctl.stop()
        worker = Worker(db, settings(url))
        worker.start()
        try:
            ids = enqueue(db, 20)
            time.sleep(1.0)  # several attempts against a closed port
            rows = db.call(outbox.listing, None, 100)
            assert all(r.status == "queued" and r.attempts >= 2 for r in rows)
            assert "Connection" in (rows[0].last_error or "") or "refused" in (rows[0].last_error or "")
            ctl.restart()
            got = rec.wait_for(20)
            time.sleep(0.5)
        finally:
            worker.stop()
    assert sorted(r.message_id for r in got) == sorted(ids)
    assert len(rec.ids()) == 20
    assert set(states(db).values()) == {"sent"}


def test_4xx_is_retried_and_5xx_fails_with_the_reason(db: Database) -> None:
    with relay() as (rec, ctl):
        s = settings(url_of(ctl))
        (mid,) = enqueue(db, 1)
        rec.reply = "451 4.3.0 mailbox busy"
        first = Worker(db, s).deliver_due()
        assert first.retried == 1
        row = db.call(outbox.status_of, mid)
        assert row is not None and row.status == "queued" and "451" in (row.last_error or "")
        rec.reply = "250 OK"
        time.sleep(0.3)
        assert Worker(db, s).deliver_due().sent == 1
        (bad,) = enqueue(db, 1, prefix="gone")
        rec.reply = "550 5.1.1 no such user"
        assert Worker(db, s).deliver_due().failed == 1
        row = db.call(outbox.status_of, bad)
        assert row is not None and row.status == "failed" and "550" in (row.last_error or "")
    assert rec.ids() == [mid]


def test_gives_up_after_the_configured_time(db: Database) -> None:
    with relay() as (_rec, ctl):
        url = url_of(ctl)
        ctl.stop()
    (mid,) = enqueue(db, 1)
    s = settings(url, give_up_after=1.0)
    assert Worker(db, s).deliver_due().retried == 1
    time.sleep(1.1)
    assert Worker(db, s).deliver_due().failed == 1
    row = db.call(outbox.status_of, mid)
    assert row is not None and row.status == "failed" and "gave up after" in (row.last_error or "")


def test_dkim_signature_verifies(db: Database, tmp_path: Path) -> None:
    key = rsa_key(tmp_path / "dkim.pem")
    record = dkim_dns_record(key)
    with relay() as (rec, ctl):
        enqueue(db, 2)
        s = settings(
            url_of(ctl), dkim_key=key.read_bytes(), dkim_selector="s1", dkim_domain="codes.example.org"
        )
        assert Worker(db, s).deliver_due().sent == 2
        got = rec.wait_for(2)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"s1._domainkey.codes.example.org."
        return record

    for r in got:
        assert r.data.startswith(b"DKIM-Signature:")
        assert dkim.verify(r.data, dnsfunc=dns)
        assert not dkim.verify(r.data.replace(b"Body", b"B0dy"), dnsfunc=dns)  # tampering is caught


class Login:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.seen.append(data.login.decode())
        return AuthResult(success=data.login == b"mailer" and data.password == b"p@ss word")


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
def test_tls_and_login(db: Database, tmp_path: Path, mode: str) -> None:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    auth = Login()
    kwargs: dict[str, object] = {"authenticator": auth, "auth_required": True}
    if mode == "starttls":
        kwargs.update(tls_context=context, require_starttls=True)
    else:
        # The whole connection is TLS here, which aiosmtpd does not see when it decides whether to offer AUTH.
        kwargs.update(ssl_context=context, auth_require_tls=False)
    with relay(**kwargs) as (rec, ctl):
        scheme = "smtp" if mode == "starttls" else "smtps"
        good = f"{scheme}://mailer:p%40ss%20word@127.0.0.1:{ctl.port}?cafile={cert}"
        enqueue(db, 1)
        wrong = settings(good.replace("word@", "wrong@"))
        assert Worker(db, wrong).deliver_due().retried == 1  # a wrong password keeps the mail
        time.sleep(0.3)
        assert Worker(db, settings(good)).deliver_due().sent == 1
        rec.wait_for(1)
    assert auth.seen == ["mailer", "mailer"]


def test_starttls_require_refuses_a_plain_relay(db: Database) -> None:
    with relay() as (rec, ctl):
        enqueue(db, 1)
        done = Worker(db, settings(url_of(ctl) + "?starttls=require")).deliver_due()
        assert done.retried == 1 and rec.received == []
        assert "STARTTLS" in (db.call(outbox.listing)[0].last_error or "")


def test_settings_keep_the_password_out_of_reprs() -> None:
    target = parse_smtp_url("smtps://u:hunter2@mail.example.org")
    assert target.port == 465 and target.implicit_tls and "hunter2" not in repr(target)
    s = dataclasses.replace(MailSettings(), relay=target)
    assert "hunter2" not in repr(s)
