"""The meter: which codes a visitor unlocked this period, and race-free consumption of views."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..db import Conn

ALREADY = "already"  # unlocked earlier this period: free
FREE = "free"  # a page that opens without spending a view (generator/free.py)
UNLOCKED = "unlocked"  # a view was consumed just now
EXHAUSTED = "exhausted"  # the plan's allowance is spent
IP_CAP = "ip_cap"  # guests behind this IP have spent the per-IP cap

UNLOCKED_LIST_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # stored with each unlock; a new key starts a fresh meter
    since: int  # unlocks older than this (epoch seconds) no longer count (rolling periods)


def period_for(spec: str, now: float | None = None) -> Period:
    """"month" (calendar month, UTC), "lifetime" or "rolling:N" (the last N days)."""
    now = time.time() if now is None else now
    if spec == "lifetime":
        return Period("lifetime", 0)
    if spec.startswith("rolling:"):
        return Period("rolling", int(now) - int(spec[8:]) * 86400)
    t = time.gmtime(now)
    return Period(f"{t.tm_year:04d}-{t.tm_mon:02d}", 0)


def used(conn: Conn, subject: str, period: Period) -> int:
    row = conn.one(
        "SELECT COUNT(*) FROM unlocks WHERE subject=? AND period=? AND unlocked_at>=?",
        (subject, period.key, period.since),
    )
    return int(row[0])


def guest_ip_used(conn: Conn, ip: str, period: Period) -> int:
    row = conn.one(
        "SELECT COUNT(*) FROM unlocks WHERE guest_ip=? AND period=? AND unlocked_at>=?",
        (ip, period.key, period.since),
    )
    return int(row[0])


def is_unlocked(conn: Conn, subject: str, period: Period, codeset: str, code: str) -> bool:
    row = conn.one(
        "SELECT unlocked_at FROM unlocks WHERE subject=? AND period=? AND codeset=? AND code=?",
        (subject, period.key, codeset, code),
    )
    return row is not None and int(row[0]) >= period.since


def unlocked(
    conn: Conn, subject: str, period: Period, limit: int = UNLOCKED_LIST_LIMIT
) -> list[tuple[str, str]]:
    """The most recent unlocks of the period, newest first."""
    rows = conn.all(
        "SELECT codeset, code FROM unlocks WHERE subject=? AND period=? AND unlocked_at>=?"
        " ORDER BY unlocked_at DESC, codeset, code LIMIT ?",
        (subject, period.key, period.since, limit),
    )
    return [(r[0], r[1]) for r in rows]


def _lock_subject(conn: Conn, subject: str) -> None:
    """PostgreSQL: serialises the subject's unlocks (SQLite's write transaction already does)."""
    kind, _, ident = subject.partition(":")
    if kind == "g":
        conn.lock_key("subject:" + subject)  # a guest may have no row yet: a refused guest gets none
    else:
        conn.lock_row("accounts", "id", int(ident))


def _remember_guest(conn: Conn, subject: str, now: int) -> None:
    kind, _, ident = subject.partition(":")
    if kind == "g":
        conn.execute("INSERT INTO guests(id, created_at) VALUES (?, ?) ON CONFLICT DO NOTHING", (ident, now))


_RECORD = (
    "INSERT INTO unlocks(subject, period, codeset, code, guest_ip, unlocked_at) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (subject, period, codeset, code)"
    " DO UPDATE SET unlocked_at=excluded.unlocked_at, guest_ip=excluded.guest_ip"
)


def _record(
    conn: Conn, subject: str, period: Period, codeset: str, code: str, ip: str | None, now: int
) -> None:
    conn.execute(_RECORD, (subject, period.key, codeset, code, ip, now))


def grant(
    conn: Conn, subject: str, period: Period, codeset: str, code: str, now: int | None = None,
    behind: Callable[[str, Sequence[Any]], bool] | None = None,
) -> str:
    """Unlocks `code` for a subject with no allowance to count against (a paid plan).

    One idempotent statement: there is no limit two requests could race for, so no transaction
    or lock is needed, and nothing in the answer depends on it, so `behind` (the database's
    write_behind) may batch it with the other grants of this moment.
    """
    params = (subject, period.key, codeset, code, None, int(time.time()) if now is None else now)
    if behind is None or not behind(_RECORD, params):
        conn.execute(_RECORD, params)
    return UNLOCKED


def consume(
    conn: Conn, subject: str, allowance: int | None, period: Period, codeset: str, code: str,
    *, guest_ip: str | None = None, ip_cap: int | None = None, now: int | None = None,
) -> str:
    """Unlocks `code` for `subject` if the allowance permits; one of ALREADY, UNLOCKED, EXHAUSTED, IP_CAP.

    Check and insert happen in one write transaction holding a lock on the subject (SQLite: the
    database write lock; PostgreSQL: the subject's row, plus the IP for guests), so parallel
    requests cannot both take the last view.
    """
    now = int(time.time()) if now is None else now
    # A read first: counts only grow within a period, so "already unlocked" or "spent" seen
    # without a lock is final. Only a visitor with a view to spend takes the write lock (a burst
    # of refused unlocks is a burst of reads, not of write transactions across processes).
    refused = _refusal(conn, subject, allowance, period, codeset, code, guest_ip, ip_cap)
    if refused is not None:
        return refused
    with conn.transaction():
        _lock_subject(conn, subject)
        if is_unlocked(conn, subject, period, codeset, code):
            return ALREADY
        if allowance is not None and used(conn, subject, period) >= allowance:
            return EXHAUSTED
        if guest_ip is not None and ip_cap is not None:
            conn.lock_key("guest-ip:" + guest_ip)
            if guest_ip_used(conn, guest_ip, period) >= ip_cap:
                return IP_CAP
        _remember_guest(conn, subject, now)
        _record(conn, subject, period, codeset, code, guest_ip, now)
        return UNLOCKED


def _refusal(conn: Conn, subject: str, allowance: int | None, period: Period, codeset: str, code: str,
             guest_ip: str | None, ip_cap: int | None) -> str | None:
    if is_unlocked(conn, subject, period, codeset, code):
        return ALREADY
    if allowance is not None and used(conn, subject, period) >= allowance:
        return EXHAUSTED
    if guest_ip is not None and ip_cap is not None and guest_ip_used(conn, guest_ip, period) >= ip_cap:
        return IP_CAP
    return None


def merge_guest(
    conn: Conn, guest_id: str, account_subject: str, allowance: int | None, period: Period,
    now: int | None = None,
) -> int:
    """Copies this browser's guest unlocks to the account (within its allowance); returns how many.

    The guest's own rows stay, so logging out does not hand the browser a fresh guest view.
    """
    now = int(time.time()) if now is None else now
    carried = 0
    with conn.transaction():
        _lock_subject(conn, account_subject)
        rows = conn.all(
            "SELECT codeset, code FROM unlocks WHERE subject=? AND period=? AND unlocked_at>=?"
            " ORDER BY unlocked_at",
            (f"g:{guest_id}", period.key, period.since),
        )
        for codeset, code in rows:
            if is_unlocked(conn, account_subject, period, codeset, code):
                continue
            if allowance is not None and used(conn, account_subject, period) >= allowance:
                break
            _record(conn, account_subject, period, codeset, code, None, now)
            carried += 1
    return carried
