"""CasePilot's meter: questions per plan and period (site.yml `assistant.plans`), counted race-free.

One statement takes a question: an upsert that adds one only while the count is below the
allowance and returns the new count (nothing when the allowance is spent). SQLite and
PostgreSQL both run it atomically, so parallel questions can never take more than the allowance.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from generator.config import AskPlan

from ..db import Conn

_TAKE = (
    "INSERT INTO asks(subject, period, used) VALUES (?, ?, 1)"
    " ON CONFLICT (subject, period) DO UPDATE SET used = asks.used + 1 WHERE asks.used < ?"
    " RETURNING used"
)
WORDS = {"day": "today", "month": "this month", "lifetime": ""}


def period_key(per: str, now: float | None = None) -> str:
    """The counter's period: "d:2026-12-02" (UTC day), "m:2026-12", "all", or "r7:2930" (N-day blocks)."""
    now = time.time() if now is None else now
    t = time.gmtime(now)
    if per == "day":
        return f"d:{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    if per == "month":
        return f"m:{t.tm_year:04d}-{t.tm_mon:02d}"
    if per == "minute":
        return f"w:{int(now // 60)}"
    if per.startswith("rolling:"):
        n = int(per[8:])
        return f"r{n}:{int(now // 86400) // n}"
    return "all"


def period_words(per: str) -> str:
    if per.startswith("rolling:"):
        return f"in these {per[8:]} days"
    return WORDS.get(per, "")


def left_words(n: int | None, per: str) -> str:
    """What the box, the account page and /plans/ say: "2 questions left today."."""
    if n is None:
        return "Unlimited questions."
    when = period_words(per)
    return f"{n} question{'s' if n != 1 else ''} left{' ' + when if when else ''}."


def allowance_words(plan: AskPlan) -> str:
    """A plan's allowance as /plans/ lists it: "20 CasePilot questions a month"."""
    if plan.asks is None:
        return "Unlimited CasePilot questions"
    if plan.per.startswith("rolling:"):
        per = f"per {plan.per[8:]} days"
    else:
        per = {"day": "a day", "month": "a month", "lifetime": "in all"}.get(plan.per, "")
    return f"{plan.asks} CasePilot question{'s' if plan.asks != 1 else ''} {per}".rstrip()


@dataclass(frozen=True, slots=True)
class Taken:
    ok: bool
    left: int | None  # None: unlimited


def take(conn: Conn, subject: str, plan: AskPlan, now: float | None = None) -> Taken:
    """Counts one question for `subject` if its allowance permits."""
    if plan.asks is None:
        return Taken(True, None)
    if plan.asks <= 0:
        return Taken(False, 0)
    row = conn.one(_TAKE, (subject, period_key(plan.per, now), plan.asks))
    if row is None:
        return Taken(False, 0)
    return Taken(True, max(0, plan.asks - int(row[0])))


def rate(conn: Conn, ip: str, per_minute: int, now: float | None = None) -> bool:
    """Counts a question against its client IP's per-minute limit (one upsert, like `take`); False when over.

    Old minutes are pruned now and then, so the table keeps about one row per active IP."""
    now = time.time() if now is None else now
    if random.random() < 0.001:
        conn.execute("DELETE FROM asks WHERE period < ? AND period LIKE 'w:%'", (f"w:{int(now // 60) - 1}",))
    return take(conn, f"ip:{ip}", AskPlan(per_minute, "minute"), now).ok


def give_back(conn: Conn, subject: str, plan: AskPlan, now: float | None = None) -> None:
    """Returns a question that could not be answered (the service failed after it was counted)."""
    if plan.asks is not None:
        conn.execute(
            "UPDATE asks SET used = used - 1 WHERE subject=? AND period=? AND used > 0",
            (subject, period_key(plan.per, now)),
        )


def plan_for(plans: dict[str, AskPlan], name: str) -> AskPlan:
    """A visitor plan's allowance (a plan without one of its own asks as "free" does)."""
    return plans.get(name) or plans["free"]


def left_message(conn: Conn, plans: dict[str, AskPlan], subject: str | None, plan_name: str) -> str:
    """The visitor's questions left, in words (the account page, /plans/)."""
    plan = plan_for(plans, plan_name)
    return left_words(left(conn, subject, plan), plan.per)


def left(conn: Conn, subject: str | None, plan: AskPlan, now: float | None = None) -> int | None:
    if plan.asks is None:
        return None
    if subject is None:
        return plan.asks
    row = conn.one("SELECT used FROM asks WHERE subject=? AND period=?", (subject, period_key(plan.per, now)))
    return max(0, plan.asks - (int(row[0]) if row else 0))


def prune(conn: Conn, now: float | None = None) -> int:
    """Deletes the counts of past days, months and minutes (they no longer limit anyone)."""
    now = time.time() if now is None else now
    deleted = 0
    for per, prefix in (("day", "d:"), ("month", "m:"), ("minute", "w:")):
        deleted += int(
            conn.execute(
                "DELETE FROM asks WHERE period LIKE ? AND period < ?", (prefix + "%", period_key(per, now))
            ).rowcount
        )
    return deleted
