"""The outbox: `enqueue` inside the caller's transaction; claims with leases for the delivery workers.

A message is claimed by exactly one worker at a time: PostgreSQL takes the rows with
`FOR UPDATE SKIP LOCKED` (instances never wait on each other's claims), SQLite holds its one write
lock for the claim. The claim sets a lease; a worker that dies mid-delivery leaves the lease to
expire and the message is delivered again — the same bytes, the same Message-ID.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..db import Conn
from .message import Message, render

QUEUED, SENT, FAILED = "queued", "sent", "failed"


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    message_id: str
    sender: str
    recipient: str
    raw: str
    attempts: int  # including this one
    created_at: int  # ms


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    message_id: str
    kind: str
    recipient: str
    subject: str
    status: str
    attempts: int
    created_at: int
    next_at: int
    sent_at: int | None
    last_error: str | None


def now_ms() -> int:
    return int(time.time() * 1000)


def enqueue(conn: Conn, message: Message, *, now: int | None = None) -> str:
    """Adds `message` to the outbox and returns its Message-ID.

    Call it inside the transaction of the event that causes the mail: both commit, or neither.
    """
    at = now_ms() if now is None else now
    message_id, raw = render(message, at / 1000)
    conn.execute(
        "INSERT INTO mail_outbox(message_id, kind, sender, recipient, subject, raw, status, created_at,"
        " next_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            message_id,
            message.kind,
            message.envelope_from,
            message.to,
            message.subject[:300],
            raw,
            QUEUED,
            at,
            at,
        ),
    )
    return message_id


_CLAIM = (
    "UPDATE mail_outbox SET lease_until=?, leased_by=?, attempts=attempts+1 WHERE id IN ("
    "SELECT id FROM mail_outbox WHERE status='queued' AND next_at<=? AND lease_until<=?"
    " ORDER BY next_at, id LIMIT ?{lock})"
    " RETURNING id, message_id, sender, recipient, raw, attempts, created_at"
)


def claim(conn: Conn, worker: str, limit: int, lease_ms: int, now: int | None = None) -> list[Claimed]:
    """Takes up to `limit` due messages for `worker` until now + `lease_ms`."""
    at = now_ms() if now is None else now
    # A read first: an idle poll takes no write lock (SQLite) and no row locks (PostgreSQL).
    due = "SELECT 1 FROM mail_outbox WHERE status='queued' AND next_at<=? AND lease_until<=? LIMIT 1"
    if conn.one(due, (at, at)) is None:
        return []
    sql = _CLAIM.format(lock=" FOR UPDATE SKIP LOCKED" if conn.pg else "")
    with conn.transaction():
        rows = conn.all(sql, (at + lease_ms, worker, at, at, limit))
    claimed = [Claimed(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6])) for r in rows]
    claimed.sort(key=lambda c: c.id)
    return claimed


def mark_sent(conn: Conn, outbox_id: int, now: int | None = None) -> None:
    conn.execute(
        "UPDATE mail_outbox SET status='sent', sent_at=?, lease_until=0, last_error=NULL WHERE id=?",
        (now_ms() if now is None else now, outbox_id),
    )


def mark_retry(conn: Conn, outbox_id: int, next_at: int, error: str) -> None:
    conn.execute(
        "UPDATE mail_outbox SET next_at=?, lease_until=0, last_error=? WHERE id=? AND status='queued'",
        (next_at, error[:500], outbox_id),
    )


def mark_failed(conn: Conn, outbox_id: int, error: str) -> None:
    conn.execute(
        "UPDATE mail_outbox SET status='failed', lease_until=0, last_error=? WHERE id=?",
        (error[:500], outbox_id),
    )


def retry_failed(conn: Conn, outbox_id: int | None = None, now: int | None = None) -> int:
    """Puts failed messages (one, or all) back in the queue, with a fresh give-up clock."""
    at = now_ms() if now is None else now
    where, params = ("id=? AND ", (outbox_id,)) if outbox_id is not None else ("", ())
    cur = conn.execute(
        f"UPDATE mail_outbox SET status='queued', attempts=0, created_at=?, next_at=?, lease_until=0"
        f" WHERE {where}status='failed'",
        (at, at, *params),
    )
    return int(cur.rowcount)


_ROW = "id, message_id, kind, recipient, subject, status, attempts, created_at, next_at, sent_at, last_error"


def _row(r: Any) -> OutboxRow:
    return OutboxRow(
        int(r[0]),
        r[1],
        r[2],
        r[3],
        r[4],
        r[5],
        int(r[6]),
        int(r[7]),
        int(r[8]),
        None if r[9] is None else int(r[9]),
        r[10],
    )


def counts(conn: Conn) -> dict[str, int]:
    return {r[0]: int(r[1]) for r in conn.all("SELECT status, COUNT(*) FROM mail_outbox GROUP BY status")}


def listing(conn: Conn, status: str | None = None, limit: int = 50) -> list[OutboxRow]:
    if status is None:
        rows = conn.all(f"SELECT {_ROW} FROM mail_outbox ORDER BY id DESC LIMIT ?", (limit,))
    else:
        rows = conn.all(
            f"SELECT {_ROW} FROM mail_outbox WHERE status=? ORDER BY id DESC LIMIT ?", (status, limit)
        )
    return [_row(r) for r in rows]


def raw_of(conn: Conn, outbox_id: int) -> str | None:
    row = conn.one("SELECT raw FROM mail_outbox WHERE id=?", (outbox_id,))
    return None if row is None else str(row[0])


def status_of(conn: Conn, message_id: str) -> OutboxRow | None:
    row = conn.one(f"SELECT {_ROW} FROM mail_outbox WHERE message_id=?", (message_id,))
    return None if row is None else _row(row)
