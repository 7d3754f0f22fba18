"""The meter's and the wall's words, defined once from the configured plans.

The build prints the static wall from here, the gate's no-JavaScript pages and JSON answers
carry these texts, and `coderef.js` shows what the gate sends: one wording everywhere.
"""
from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

from .config import Meter


@dataclass(frozen=True, slots=True)
class Words:
    title: str
    text: str


def views(n: int) -> str:
    return f"{n} code page {'view' if n == 1 else 'views'}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def period_name(meter: Meter) -> str:
    if meter.period == "lifetime":
        return "in total"
    if meter.period.startswith("rolling:"):
        return f"in any {meter.period[8:]} days"
    return "per month"


def register_offer(meter: Meter) -> str:
    """"Register free account to get 5 more views." (the seed's sentence), from the plans."""
    g, f = meter.plans.get("guest"), meter.plans.get("free")
    if f is None:
        return "Register free account for unlimited views."
    more = f - (g or 0)
    if more <= 0:
        return "Register free account to keep your unlocked pages."
    return f"Register free account to get {more} more {'view' if more == 1 else 'views'}."


def count(left: int | None) -> str:
    return "Unlimited code page views." if left is None else f"{views(left)} remaining."


def rule(meter: Meter, plan: str) -> str:
    """The meter's rule line for a plan."""
    limit = meter.plans.get(plan)
    if plan == "guest":
        if limit is None:
            return "Code pages are free to view."
        return f"Guest accounts are limited to {_plural(limit, 'page view')}. {register_offer(meter)}"
    if limit is None:
        return f"Your {plan} plan includes unlimited code page views."
    return f"{plan.capitalize()} accounts are limited to {_plural(limit, 'page view')}."


def renews(meter: Meter, now: float | None = None) -> str:
    """When spent views come back ("" when they never do)."""
    if meter.period == "lifetime":
        return ""
    if meter.period.startswith("rolling:"):
        return f"Each view counts for {meter.period[8:]} days, then it is yours again."
    t = time.gmtime(time.time() if now is None else now)
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return f"Your views renew on {calendar.month_name[month]} 1, {year} (UTC)."


def exhausted(meter: Meter, plan: str, *, capped: bool = False) -> Words:
    """The wall when the allowance is spent (or, for guests, the per-IP cap is reached)."""
    if capped:
        return Words(
            "Register to view content",
            f"Guests on your network have used the {views(meter.guest_ip_cap)} allowed per IP address "
            f"{period_name(meter)}, so guest views are paused here. {register_offer(meter)} "
            "Or log in if you have an account.",
        )
    if plan == "unverified":  # a free account before its address is confirmed (require_verified_email)
        return Words(
            "Confirm your email address",
            "Confirm your email address to get the views of your free account: open the link we mailed you, "
            "or send a new one from your account's security page.",
        )
    if plan == "unverified":  # a free account before its address is confirmed (require_verified_email)
        return Words(
            "Confirm your email address",
            "Confirm your email address to get the views of your free account: open the link we mailed you, "
            "or send a new one from your account's security page.",
        )
    limit = meter.plans.get(plan)
    if plan == "guest":
        used = "your free code page view" if limit == 1 else f"your {views(limit or 0)} as a guest"
        return Words("Register to view content", f"You have used {used}. {register_offer(meter)}")
    used = "all your views" if limit is None else f"all {views(limit)}"
    return Words(
        "Upgrade to view content",
        f"You have used {used} of your {plan} plan. Upgrade to a paid plan for unlimited code pages.",
    )


def for_visitor(meter: Meter, plan: str, *, capped: bool = False) -> dict[str, object]:
    """The words `coderef.js` shows for this visitor's meter and wall (`{n}`: views left)."""
    wall = exhausted(meter, plan, capped=capped)
    return {
        "count": "{n} code page views remaining.",
        "count_one": "1 code page view remaining.",
        "unlimited": count(None),
        "rule": rule(meter, plan),
        "renews": renews(meter),
        "wall": {"title": wall.title, "text": wall.text},
        "unlock": "Unlock (uses 1 of {n} views)",
    }


def static_wall(meter: Meter) -> str:
    """The sentence of the wall the build prints into every protected block (JS refines it)."""
    g = meter.plans.get("guest")
    text = "Create a free account to unlock this content"
    if g:
        text += f", or open it with your free guest {'view' if g == 1 else 'views'}"
    return text + "."
