"""Stripe webhook events → plan changes: idempotent per event id, in order per account.

Handled: `checkout.session.completed` (the plan bought starts), `customer.subscription.updated`
(active/trialing keeps or sets the plan; canceled, unpaid, incomplete_expired end it) and
`customer.subscription.deleted` (the plan ends: back to free). Other types are recorded and ignored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from generator.config import SiteConfig

from ..db import Conn

ACTIVE = ("active", "trialing", "past_due")  # past_due: Stripe is still retrying the payment
ENDED = ("canceled", "unpaid", "incomplete_expired")
FREE = "free"


@dataclass(frozen=True)
class Applied:
    duplicate: bool
    account_id: int | None = None
    plan: str | None = None  # the account's plan now, when it changed


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def plan_for(site: SiteConfig, obj: dict[str, Any]) -> str | None:
    """The plan an object is for: its metadata's plan, or the plan whose stripe_price it bills."""
    meta = obj.get("metadata") or {}
    plan = meta.get("plan")
    if isinstance(plan, str) and plan in site.meter.plans and plan != "guest":
        return plan
    items = ((obj.get("items") or {}).get("data")) or []
    prices = {p.stripe_price: name for name, p in site.plans.items() if p.stripe_price}
    for item in items:
        price = (item.get("price") or {}).get("id")
        if price in prices:
            return prices[price]
    return None


def _account_for(conn: Conn, obj: dict[str, Any]) -> int | None:
    meta = obj.get("metadata") or {}
    account_id = _int(obj.get("client_reference_id")) or _int(meta.get("account_id"))
    if account_id is None and obj.get("id"):
        row = conn.one("SELECT account_id FROM billing_subscriptions WHERE subscription_id=?", (obj["id"],))
        account_id = None if row is None else int(row[0])
    if account_id is None:
        return None
    return account_id if conn.one("SELECT 1 FROM accounts WHERE id=?", (account_id,)) else None


def _set(conn: Conn, account_id: int, plan: str, status: str, event_at: int, customer: Any, sub: Any) -> bool:
    """Records the subscription and sets the plan, unless a newer event was applied already."""
    conn.lock_row("accounts", "id", account_id)
    row = conn.one("SELECT event_at FROM billing_subscriptions WHERE account_id=?", (account_id,))
    if row is not None and int(row[0]) > event_at:
        return False
    if row is None:
        conn.execute(
            "INSERT INTO billing_subscriptions(account_id, customer_id, subscription_id, status, plan,"
            " event_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (account_id, customer, sub, status, plan, event_at),
        )
    else:
        conn.execute(
            "UPDATE billing_subscriptions SET customer_id=COALESCE(?, customer_id),"
            " subscription_id=COALESCE(?, subscription_id), status=?, plan=?, event_at=? WHERE account_id=?",
            (customer, sub, status, plan, event_at, account_id),
        )
    conn.execute("UPDATE accounts SET plan=? WHERE id=?", (plan, account_id))
    return True


def apply(conn: Conn, site: SiteConfig, event: dict[str, Any]) -> Applied:
    """Applies one verified event, once: a second delivery of the same id changes nothing."""
    event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
    obj = ((event.get("data") or {}).get("object")) or {}
    created = _int(event.get("created")) or int(time.time())
    with conn.transaction():
        if conn.one("SELECT 1 FROM billing_events WHERE event_id=?", (event_id,)) is not None:
            return Applied(True)
        conn.execute(
            "INSERT INTO billing_events(event_id, type, received_at) VALUES (?, ?, ?)",
            (event_id, kind[:100], int(time.time())),
        )
        if kind not in (
            "checkout.session.completed",
            "customer.subscription.updated",
            "customer.subscription.deleted",
        ):
            return Applied(False)
        account_id = _account_for(conn, obj)
        if account_id is None:
            return Applied(False)
        if kind == "checkout.session.completed":
            plan = plan_for(site, obj)
            if plan is None or obj.get("status") not in (None, "complete"):
                return Applied(False, account_id)
            ok = _set(conn, account_id, plan, "active", created, obj.get("customer"), obj.get("subscription"))
        else:
            status = str(obj.get("status") or "")
            ended = kind == "customer.subscription.deleted" or status in ENDED
            if not ended and status not in ACTIVE:
                return Applied(False, account_id)  # incomplete: wait for the payment
            plan = FREE if ended else plan_for(site, obj)
            if plan is None:
                return Applied(False, account_id)
            ok = _set(
                conn,
                account_id,
                plan,
                "canceled" if ended else status,
                created,
                obj.get("customer"),
                obj.get("id"),
            )
        return Applied(False, account_id, plan if ok else None)


def subscription_of(conn: Conn, account_id: int) -> tuple[str, str] | None:
    row = conn.one("SELECT status, plan FROM billing_subscriptions WHERE account_id=?", (account_id,))
    return None if row is None else (str(row[0]), str(row[1]))
