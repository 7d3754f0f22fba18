"""The meter's decisions: what a visitor has left, and the one unlock decision both paths call.

`unlock(gate, ctx, codeset, code)` is everything an unlock request comes to: the cross-site
check, the code check, who the visitor is, and a view consumed if one is needed, returned as an
`Unlock`. `answers.py` turns it into the response; the fast path (`hotpath.py`) and the routed
handler (`routes.py`) both call these two, so they cannot disagree.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from generator import wording

from ..accounts import sessions
from ..accounts.sessions import Account
from ..context import Context
from ..core import Gate
from ..db import Conn, Unavailable
from ..web import BadInput
from . import allowance


def views_left(conn: Conn, gate: Gate, subject: str | None, plan: str, ip: str,
               period: allowance.Period) -> tuple[int, int | None, bool]:
    """(views used, views left or None for unlimited, whether the per-IP guest cap is what stops)."""
    allow = gate.allowance_for(plan)
    used = allowance.used(conn, subject, period) if subject else 0
    if allow is None:
        return used, None, False
    left = max(0, allow - used)
    capped = False
    if plan == "guest" and left:
        by_ip = max(0, gate.site.meter.guest_ip_cap - allowance.guest_ip_used(conn, ip, period))
        capped = by_ip < left
        left = min(left, by_ip)
    return used, left, capped and left == 0


def session_payload(
    conn: Conn, gate: Gate, account: Account | None, guest_id: str | None, ip: str
) -> dict[str, Any]:
    """What GET /gate/session answers (and register/login/logout): the account and its meter."""
    period = gate.period()
    plan = gate.plan_of(account) if account else "guest"
    subject = account.subject if account else (f"g:{guest_id}" if guest_id else None)
    used, left, capped = views_left(conn, gate, subject, plan, ip, period)
    unlocked = allowance.unlocked(conn, subject, period) if subject else []
    return {
        "account": {"email": account.email, "plan": account.plan} if account else None,
        "views_left": left,
        "views_used": used,
        "allowance": gate.allowance_for(plan),
        "unlocked": [{"codeset": cs, "code": c} for cs, c in unlocked],
        "plan": plan,
        "auto_unlock": gate.site.meter.auto_unlock,
        "words": wording.for_visitor(gate.site.meter, plan, capped=capped),
    }


# The outcomes that show the sections.
GRANTED = frozenset({allowance.ALREADY, allowance.UNLOCKED, allowance.FREE})


@dataclass(slots=True)
class Unlock:
    """What an unlock request came to. `error` set: refused before the meter (cross_site,
    unknown_code…, unavailable); else `outcome` is one of allowance's outcomes."""

    outcome: str = ""
    left: int | None = None  # views left (None: unlimited)
    account: Account | None = None
    plan: str = "guest"
    new_guest: str | None = None  # a guest id to hand out in a new guest cookie
    sections: bytes = b"[]"  # the code's protected sections, as the JSON array of the answer
    store_version: object = None  # the protected store they were read from
    error: str | None = None
    message: str | None = None


def _consume(conn: Conn, gate: Gate, subject: str, plan: str, codeset: str, code: str, ip: str,
             period: allowance.Period, already: bool | None, free: bool) -> tuple[str, int | None]:
    """Consumes a view unless `code` is already unlocked (`already`: known answer, None: look it up)
    or free to view (browse pages, non-billable headers)."""
    allow = gate.allowance_for(plan)
    if free:  # nothing to count or record
        return allowance.FREE, None if allow is None else views_left(conn, gate, subject, plan, ip, period)[1]
    if already is None:
        already = allowance.is_unlocked(conn, subject, period, codeset, code)
    if already:
        outcome = allowance.ALREADY  # re-views are reads only: no write lock taken
    elif allow is None:
        outcome = allowance.grant(conn, subject, period, codeset, code, behind=gate.db.write_behind)
    else:
        gate.db.flush()  # a plan changed a moment ago: count its queued unlocks too
        guest = plan == "guest"
        outcome = allowance.consume(
            conn, subject, allow, period, codeset, code,
            guest_ip=ip if guest else None, ip_cap=gate.site.meter.guest_ip_cap if guest else None,
        )
    if allow is None:
        return outcome, None
    return outcome, views_left(conn, gate, subject, plan, ip, period)[1]


def _decide(conn: Conn, gate: Gate, ctx: Context, codeset: str, code: str, free: bool) -> Unlock:
    now = int(time.time())
    period = gate.period()
    account, already = None, None
    if ctx.session_id is not None:
        s = gate.settings
        account, unlocked_at = sessions.load_probing(
            conn, ctx.session_id, now, s.session_idle, s.session_max_age, period.key, codeset, code
        )
        already = unlocked_at is not None and unlocked_at >= period.since
    new_guest = None
    if account is not None:
        subject, plan = account.subject, gate.plan_of(account)
    else:
        plan, already = "guest", None
        gid = gate.signer.guest_id(ctx.guest_cookie)
        if gid is None:
            gid = new_guest = sessions.new_id()
            already = False  # a brand-new guest has unlocked nothing
        subject = f"g:{gid}"
    outcome, left = _consume(conn, gate, subject, plan, codeset, code, ctx.ip, period, already, free)
    return Unlock(outcome, left, account, plan, new_guest)


async def unlock(gate: Gate, ctx: Context, codeset: str, code: str) -> Unlock:
    """The meter's one decision: refuses cross-site posts, checks the code, finds the visitor,
    consumes a view if needed; everything in one database call (one thread hop on PostgreSQL)."""
    if ctx.cross_site is not None:
        why = f"Refused ({ctx.cross_site}): this request came from another site."
        return Unlock(error="cross_site", message=why)
    try:
        entry = gate.store.entry(codeset, code)  # an unknown code is a 404 before any view is spent
        free = gate.store.is_free(codeset, code)
        await gate.store.prepare(entry)  # so is a missing CMS snapshot (a 503): nothing rendered yet
        u = await gate.db.run_behind(_decide, gate, ctx, codeset, code, free)
        if u.outcome in GRANTED:  # the premium sections are rendered (off the loop) for a granted view only
            u.sections = await gate.store.answer(entry)
    except BadInput as exc:
        return Unlock(error=exc.code, message=exc.message)
    except Unavailable as exc:
        gate.db.report(exc)
        return Unlock(error="unavailable")
    u.store_version = entry.version  # a build may bring a new store in while the decision is awaited
    return u
