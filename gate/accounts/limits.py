"""Sliding-window counters kept in the gate database, so every gate instance sees the same counts."""
from __future__ import annotations

import random
import time

from ..db import Conn

WINDOW = 3600  # one hour


def count(conn: Conn, key: str, window: int = WINDOW, now: float | None = None) -> int:
    since = int((now or time.time()) - window)
    row = conn.one("SELECT COUNT(*) FROM events WHERE key=? AND at>=?", (key, since))
    return int(row[0])


def hit(conn: Conn, key: str, now: float | None = None) -> None:
    at = int(now or time.time())
    conn.execute("INSERT INTO events(key, at) VALUES (?, ?)", (key, at))
    if random.random() < 0.01:  # occasional pruning keeps the table small without a cron job
        conn.execute("DELETE FROM events WHERE at<?", (at - 2 * WINDOW,))


def over(conn: Conn, limits: list[tuple[str, int]], now: float | None = None) -> bool:
    """True when any (key, limit) pair has reached its limit within the window."""
    return any(count(conn, key, now=now) >= limit for key, limit in limits)


def clear(conn: Conn, key: str) -> None:
    conn.execute("DELETE FROM events WHERE key=?", (key,))
