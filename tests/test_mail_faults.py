"""Mail fault tests with real processes: a worker killed mid-delivery, several workers on one database."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fixtures.gate.sitekit import pg_schema
from fixtures.mail.relaykit import Received, relay, url_of
from fixtures.mail.workerkit import deliver_process, mail_env

from gate.db import Conn, Database
from gate.mail import outbox
from gate.mail.message import Message

SENDER = "coderef <no-reply@codes.example.org>"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    with ExitStack() as stack:
        yield None if request.param == "sqlite" else stack.enter_context(pg_schema())


def fill(root: Path, url: str | None, n: int) -> list[str]:
    db = Database(url, root / "var" / "gate.sqlite")

    def add(conn: Conn) -> list[str]:
        with conn.transaction():
            return [
                outbox.enqueue(
                    conn, Message(to=f"r{i}@example.org", subject=f"n{i}", text=f"t{i}", sender=SENDER)
                )
                for i in range(n)
            ]

    try:
        return db.call(add)
    finally:
        db.close()


def by_id(received: list[Received]) -> dict[str, list[bytes]]:
    copies: dict[str, list[bytes]] = defaultdict(list)
    for r in received:
        copies[r.message_id].append(r.data)
    return copies


def wait_until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.slow
def test_worker_killed_mid_delivery_sends_each_mail_exactly_once(
    tmp_path: Path, database_url: str | None
) -> None:
    ids = fill(tmp_path, database_url, 5)
    with relay() as (rec, ctl):
        rec.stall_rcpt = 30.0  # the worker is mid-conversation when it dies
        env = mail_env(url_of(ctl), database_url, CODEREF_SMTP_TIMEOUT="60", CODEREF_MAIL_LEASE="121")
        with deliver_process(tmp_path, env) as proc:
            wait_until(lambda: rec.rcpt_started > 0)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        rec.stall_rcpt = 0.0
        assert rec.received == []
        # The dead worker's lease is 121 s: make it run out now rather than wait.
        db = Database(database_url, tmp_path / "var" / "gate.sqlite")
        db.call(lambda conn: conn.execute("UPDATE mail_outbox SET lease_until=0 WHERE lease_until>0"))
        db.close()
        with deliver_process(tmp_path, mail_env(url_of(ctl), database_url)):
            rec.wait_for(5)
            time.sleep(1.0)
    copies = by_id(rec.received)
    assert sorted(copies) == sorted(ids)
    assert all(len(c) == 1 for c in copies.values())


@pytest.mark.slow
def test_killed_after_the_relay_accepted_resends_the_same_message(tmp_path: Path) -> None:
    """The one window no client can close (RFC 1047): the relay has the mail, the worker dies before
    it hears 250. The resend is byte-identical with the same Message-ID, so receivers drop it."""
    ids = fill(tmp_path, None, 3)
    with relay() as (rec, ctl):

        async def hold_first(item: Received) -> None:
            if len(rec.received) == 1:
                await asyncio.sleep(30)

        rec.before_reply = hold_first
        env = mail_env(url_of(ctl), None, CODEREF_SMTP_TIMEOUT="60", CODEREF_MAIL_LEASE="121")
        with deliver_process(tmp_path, env) as proc:
            rec.wait_for(1)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        rec.before_reply = None
        db = Database(None, tmp_path / "var" / "gate.sqlite")
        db.call(lambda conn: conn.execute("UPDATE mail_outbox SET lease_until=0 WHERE lease_until>0"))
        db.close()
        with deliver_process(tmp_path, mail_env(url_of(ctl), None)):
            wait_until(lambda: len(by_id(rec.received)) == 3)
            time.sleep(1.0)
    copies = by_id(rec.received)
    assert sorted(copies) == sorted(ids)
    for data in copies.values():
        assert len(set(data)) == 1  # never two different mails for one message


@pytest.mark.slow
def test_several_workers_on_one_database_deliver_each_mail_once(
    tmp_path: Path, database_url: str | None
) -> None:
    ids = fill(tmp_path, database_url, 200)
    with relay() as (rec, ctl):
        # 50 ms per message: one worker alone would need 10 s, so the workers that start a moment
        # after the first (process start-up takes seconds on a loaded machine) find work left.
        rec.stall_rcpt = 0.05
        env = mail_env(url_of(ctl), database_url, CODEREF_MAIL_BATCH="5")
        with ExitStack() as stack:
            for _ in range(3):
                stack.enter_context(deliver_process(tmp_path, env))
            rec.wait_for(200, timeout=60)
            time.sleep(1.0)
    copies = by_id(rec.received)
    assert sorted(copies) == sorted(ids)
    assert all(len(c) == 1 for c in copies.values())
    db = Database(database_url, tmp_path / "var" / "gate.sqlite")
    workers = db.call(lambda conn: conn.all("SELECT DISTINCT leased_by FROM mail_outbox"))
    db.close()
    assert len(workers) >= 2  # the work was really shared
