"""Attempt limits kept in the gate database, so every gate instance sees the same counts.

An attempt is counted *before* the work it guards (a password hash, a new account): `attempt`
checks every limit and records the attempt in one write transaction holding a lock on each key
(SQLite: the database write lock; PostgreSQL: advisory locks taken in key order), so a burst of
parallel requests cannot all pass a check that only the first few should pass.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ..db import Conn

WINDOW = 3600  # one hour
MAX_DELAY = 60  # seconds: the longest wait the progressive delay imposes between two attempts


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` attempts per WINDOW under `key`; with `progressive`, reaching `count` does not
    block but spaces attempts: 2 s after the attempt that reached it, doubling up to MAX_DELAY."""

    key: str
    count: int
    progressive: bool = False


@dataclass(frozen=True, slots=True)
class Refusal:
    key: str  # the limit that refused
    retry_after: int  # seconds until an attempt may succeed


def count(conn: Conn, key: str, window: int = WINDOW, now: float | None = None) -> int:
    since = int((time.time() if now is None else now) - window)
    row = conn.one("SELECT COUNT(*) FROM events WHERE key=? AND at>=?", (key, since))
    return int(row[0])


def _check(conn: Conn, limit: Limit, now: int) -> Refusal | None:
    row = conn.one(
        "SELECT COUNT(*), MIN(at), MAX(at) FROM events WHERE key=? AND at>=?", (limit.key, now - WINDOW)
    )
    n, first, last = int(row[0]), row[1], row[2]
    if n < limit.count:
        return None
    if not limit.progressive:
        return Refusal(limit.key, max(1, int(first) + WINDOW - now))
    delay = min(MAX_DELAY, 2 ** min(n - limit.count + 1, 6))
    wait = int(last) + delay - now
    return Refusal(limit.key, wait) if wait > 0 else None


def attempt(conn: Conn, limits: list[Limit], now: float | None = None) -> Refusal | None:
    """Counts one attempt under every key, atomically, unless a limit refuses it (then nothing is
    counted and the refusal says which limit and for how long)."""
    at = int(time.time() if now is None else now)
    with conn.transaction():
        for limit in sorted(limits, key=lambda lim: lim.key):  # one order: no deadlock between keys
            conn.lock_key(limit.key)
        for limit in limits:
            refused = _check(conn, limit, at)
            if refused is not None:
                return refused
        for limit in limits:
            conn.execute("INSERT INTO events(key, at) VALUES (?, ?)", (limit.key, at))
    return None


def clear(conn: Conn, key: str) -> None:
    conn.execute("DELETE FROM events WHERE key=?", (key,))


def prune(conn: Conn, now: float | None = None) -> int:
    """Deletes events older than the window (housekeeping); returns how many."""
    at = int(time.time() if now is None else now)
    return int(conn.execute("DELETE FROM events WHERE at<?", (at - WINDOW,)).rowcount)


def in_words(seconds: int) -> str:
    """"42 seconds", "3 minutes", "1 hour": how long to wait, for people."""
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return "1 hour"


def counted(conn: Conn, key: str, count: int, now: float | None = None) -> bool:
    """Inside the caller's write transaction: counts one attempt under `key` unless `count` were
    made within the window already (then False, and nothing is counted)."""
    at = int(time.time() if now is None else now)
    conn.lock_key(key)
    if _check(conn, Limit(key, count), at) is not None:
        return False
    conn.execute("INSERT INTO events(key, at) VALUES (?, ?)", (key, at))
    return True
