"""The consult quota line of the account page."""

from __future__ import annotations

import time

from ..accounts.sessions import Account
from ..core import Gate
from . import cases


async def quota_text(gate: Gate, account: Account) -> str:
    allowed = gate.site.consult.plans.get(account.plan, 0)
    if allowed == 0:
        return "Your plan does not include consult questions"
    quota = await gate.db.run(cases.quota, account.id, allowed, gate.site.consult.period, time.time())
    return quota_line(quota)


def quota_line(q: cases.Quota) -> str:
    if q.allowed is None:
        return f"{q.used} questions this period (unlimited)"
    renews = f"; renews {time.strftime('%Y-%m-%d', time.gmtime(q.renews_at))}" if q.renews_at else ""
    return f"{q.used} of {q.allowed} questions used this period{renews}"
