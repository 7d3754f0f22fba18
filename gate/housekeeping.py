"""Housekeeping: what the gate database no longer needs (expired sessions, old attempt counts,
guests whose unlocks no longer count), pruned at start and then hourly by every gate process
(idempotent deletes, so several instances doing it is harmless)."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from .accounts import limits
from .assistant import asks
from .db import Conn, Database, Unavailable
from .meter.allowance import Period

log = logging.getLogger("coderef.gate")
INTERVAL = 3600  # seconds between two prunes


@dataclass(frozen=True, slots=True)
class Pruned:
    sessions: int
    events: int
    unlocks: int
    guests: int


def prune(
    conn: Conn, period: Period, session_idle: int, session_max_age: int, now: int | None = None
) -> Pruned:
    """Deletes expired sessions, attempt events past their window, guests' unlocks of past
    periods, and guests left without unlocks (a guest seen within the day keeps its row)."""
    now = int(time.time()) if now is None else now
    with conn.transaction():
        sessions = conn.execute(
            "DELETE FROM sessions WHERE seen_at<? OR created_at<?",
            (now - session_idle, now - session_max_age),
        ).rowcount
        events = limits.prune(conn, now)
        unlocks = 0
        if period.key != "lifetime":
            unlocks = conn.execute(
                "DELETE FROM unlocks WHERE subject LIKE 'g:%' AND (period<>? OR unlocked_at<?)",
                (period.key, period.since),
            ).rowcount
        asks.prune(conn, now)
        guests = conn.execute(
            "DELETE FROM guests WHERE created_at<? AND NOT EXISTS"
            " (SELECT 1 FROM unlocks u WHERE u.subject = 'g:' || guests.id)",
            (now - 86400,),
        ).rowcount
    return Pruned(int(sessions), int(events), int(unlocks), int(guests))


async def run_forever(
    db: Database, period: Callable[[], Period], session_idle: int, session_max_age: int
) -> None:
    """Prunes now and then every INTERVAL seconds, off the event loop; an unavailable database
    only postpones it."""
    while True:
        try:
            # Twice a request's wait (a busy pool is no reason to postpone by an hour), and bounded:
            # a shutdown waits for this thread.
            done = await anyio.to_thread.run_sync(
                db.call_waiting, 2 * db.wait, prune, period(), session_idle, session_max_age
            )
            log.info("gate housekeeping: %s", done)
        except Unavailable as exc:
            log.warning("gate housekeeping postponed: %s", exc)
        await anyio.sleep(INTERVAL)
