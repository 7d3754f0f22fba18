"""The moderation queue: job posts in the gate database, and their transitions.

A post is counted against its account's and its client's daily limits in the same write transaction
that stores it, holding a lock on both (SQLite: the database write lock; PostgreSQL: advisory locks
taken in one order), so a burst of parallel posts cannot slip past a limit. A transition names the
state it leaves (`pending` -> `approved`), so two editors acting at once cannot both succeed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..db import Conn

PENDING, APPROVED, REJECTED, EXPIRED = "pending", "approved", "rejected", "expired"
STATUSES = (PENDING, APPROVED, REJECTED, EXPIRED)
DAY = 86_400

_COLUMNS = (
    "p.id, p.account_id, a.email, p.ip, p.status, p.created_at, p.title, p.employer, p.fields,"
    " p.decided_at, p.decided_by, p.reason, p.slug"
)
_SELECT = f"SELECT {_COLUMNS} FROM job_posts p LEFT JOIN accounts a ON a.id = p.account_id"


@dataclass(frozen=True, slots=True)
class Post:
    id: int
    account_id: int | None
    email: str | None  # the poster's account (None once the account is deleted)
    ip: str
    status: str
    created_at: int
    title: str
    employer: str
    fields: dict[str, str]  # the form as submitted
    decided_at: int | None
    decided_by: str | None
    reason: str | None  # why it was rejected
    slug: str | None  # the listing it became


@dataclass(frozen=True, slots=True)
class Limits:
    per_account: int  # posts per account per day
    per_ip: int  # posts per client address per day


def _post(row: Any) -> Post:
    return Post(
        int(row[0]),
        None if row[1] is None else int(row[1]),
        row[2],
        row[3],
        row[4],
        int(row[5]),
        row[6],
        row[7],
        json.loads(row[8]),
        None if row[9] is None else int(row[9]),
        row[10],
        row[11],
        row[12],
    )


def submit(
    conn: Conn,
    account_id: int,
    ip: str,
    fields: dict[str, str],
    title: str,
    employer: str,
    now: int,
    limits: Limits,
) -> int | str:
    """Queues a post; returns its number, or "account" / "ip": the daily limit that refused it."""
    keys = sorted([f"job-post-account:{account_id}", f"job-post-ip:{ip}"])
    since = now - DAY
    with conn.transaction():
        for key in keys:  # one order: no deadlock between two posts
            conn.lock_key(key)
        mine = conn.one(
            "SELECT COUNT(*) FROM job_posts WHERE account_id=? AND created_at>?", (account_id, since)
        )
        if int(mine[0]) >= limits.per_account:
            return "account"
        theirs = conn.one("SELECT COUNT(*) FROM job_posts WHERE ip=? AND created_at>?", (ip, since))
        if int(theirs[0]) >= limits.per_ip:
            return "ip"
        row = conn.one(
            "INSERT INTO job_posts(account_id, ip, status, created_at, title, employer, fields)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (account_id, ip, PENDING, now, title, employer, json.dumps(fields, ensure_ascii=False)),
        )
    return int(row[0])


def get(conn: Conn, post_id: int) -> Post | None:
    row = conn.one(f"{_SELECT} WHERE p.id=?", (post_id,))
    return None if row is None else _post(row)


def listing(conn: Conn, statuses: tuple[str, ...] = (PENDING,), limit: int = 500) -> list[Post]:
    """Posts in the given states, oldest first (the order editors work the queue in)."""
    marks = ",".join("?" * len(statuses))
    rows = conn.all(f"{_SELECT} WHERE p.status IN ({marks}) ORDER BY p.id LIMIT ?", (*statuses, limit))
    return [_post(r) for r in rows]


def mine(conn: Conn, account_id: int, limit: int = 200) -> list[Post]:
    """An account's posts, newest first."""
    return [
        _post(r)
        for r in conn.all(f"{_SELECT} WHERE p.account_id=? ORDER BY p.id DESC LIMIT ?", (account_id, limit))
    ]


def move(
    conn: Conn,
    post_id: int,
    source: str,
    target: str,
    by: str,
    now: int,
    *,
    reason: str | None = None,
    slug: str | None = None,
) -> bool:
    """`source` -> `target`; False (and nothing changed) when the post is not in `source` any more."""
    cur = conn.execute(
        "UPDATE job_posts SET status=?, decided_at=?, decided_by=?, reason=COALESCE(?, reason),"
        " slug=COALESCE(?, slug) WHERE id=? AND status=?",
        (target, now, by, reason, slug, post_id, source),
    )
    return bool(cur.rowcount == 1)
