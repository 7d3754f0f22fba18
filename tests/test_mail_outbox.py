"""The outbox: enqueued in the caller's transaction, claimed by one worker at a time, backoff, give-up."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fixtures.gate.sitekit import pg_schema

from gate.db import Conn, Database
from gate.mail import outbox
from gate.mail.message import Message, render
from gate.mail.settings import MailSettings
from gate.mail.worker import backoff_ms

SENDER = "coderef <no-reply@codes.example.org>"


def note(to: str = "ann@example.org", **kw: object) -> Message:
    return Message(
        to=to, subject=str(kw.pop("subject", "Hello")), text=str(kw.pop("text", "Body")), sender=SENDER, **kw
    )  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with ExitStack() as stack:
        url = None if request.param == "sqlite" else stack.enter_context(pg_schema())
        database = Database(url, tmp_path / "gate.sqlite")
        yield database
        database.close()


def test_render_is_7bit_with_stable_ids_and_threading_headers() -> None:
    m = note(
        subject="Réponse: S72.001A — hip",
        text="Grüße\nline two",
        in_reply_to="<a@x>",
        references=("<a@x>", "<b@x>"),
        auto_submitted="auto-replied",
        reply_to="case+1.sig@codes.example.org",
    )
    mid, raw = render(m, 1_700_000_000.0)
    assert raw.isascii() and "\r\n" in raw
    parsed = email.message_from_string(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == mid and mid.endswith("@codes.example.org>")
    assert parsed["Subject"] == "Réponse: S72.001A — hip"
    assert parsed["In-Reply-To"] == "<a@x>" and parsed["References"] == "<a@x> <b@x>"
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Date"] == "Tue, 14 Nov 2023 22:13:20 +0000"
    assert parsed.get_body(("plain",)).get_content().splitlines() == ["Grüße", "line two"]  # type: ignore[union-attr]
    assert render(m)[0] != mid  # every message gets its own id


def test_enqueue_commits_and_rolls_back_with_the_callers_transaction(db: Database) -> None:
    def ok(conn: Conn) -> str:
        with conn.transaction():
            return outbox.enqueue(conn, note())

    def boom(conn: Conn) -> None:
        with conn.transaction():
            outbox.enqueue(conn, note(to="rolled@example.org"))
            raise RuntimeError("the event failed")

    mid = db.call(ok)
    with pytest.raises(RuntimeError):
        db.call(boom)
    rows = db.call(outbox.listing)
    assert [(r.message_id, r.recipient, r.status) for r in rows] == [(mid, "ann@example.org", "queued")]


def test_claims_are_exclusive_until_the_lease_ends(db: Database) -> None:
    def add(conn: Conn) -> None:
        with conn.transaction():
            for i in range(5):
                outbox.enqueue(conn, note(to=f"u{i}@example.org"), now=1000)

    db.call(add)
    first = db.call(outbox.claim, "w1", 3, 60_000, 2000)
    second = db.call(outbox.claim, "w2", 10, 60_000, 2000)
    assert len(first) == 3 and len(second) == 2
    assert not {c.id for c in first} & {c.id for c in second}
    assert db.call(outbox.claim, "w3", 10, 60_000, 30_000) == []  # leases still running
    db.call(outbox.mark_sent, first[0].id, 3000)
    again = db.call(outbox.claim, "w3", 10, 60_000, 62_001)  # leases over: the unsent come back
    assert sorted(c.id for c in again) == sorted(c.id for c in first[1:] + second)
    assert all(c.attempts == 2 for c in again)


def test_retry_waits_for_next_at_and_failed_can_be_requeued(db: Database) -> None:
    def add(conn: Conn) -> str:
        with conn.transaction():
            return outbox.enqueue(conn, note(), now=1000)

    mid = db.call(add)
    (item,) = db.call(outbox.claim, "w", 10, 60_000, 1000)
    db.call(outbox.mark_retry, item.id, 5000, "451 try later")
    assert db.call(outbox.claim, "w", 10, 60_000, 4999) == []
    (item,) = db.call(outbox.claim, "w", 10, 60_000, 5000)
    db.call(outbox.mark_failed, item.id, "550 no such user")
    row = db.call(outbox.status_of, mid)
    assert row is not None and row.status == "failed" and row.last_error == "550 no such user"
    assert db.call(outbox.claim, "w", 10, 60_000, 10**12) == []

    def requeue(conn: Conn) -> int:
        with conn.transaction():
            return outbox.retry_failed(conn)

    assert db.call(requeue) == 1
    assert [c.message_id for c in db.call(outbox.claim, "w", 10, 60_000)] == [mid]


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    s = MailSettings(retry_base=10, retry_max=100)
    for attempts, base in ((1, 10), (2, 20), (3, 40), (4, 80), (5, 100), (12, 100)):
        for _ in range(20):
            assert base * 800 <= backoff_ms(s, attempts) <= base * 1200
