"""Stripe events seen (idempotency) and each account's subscription (one gate database migration)."""

from __future__ import annotations

MIGRATION: list[str] = [
    "CREATE TABLE billing_events(event_id TEXT PRIMARY KEY, type TEXT NOT NULL, received_at BIGINT NOT NULL)",
    # event_at: Stripe's `created` of the last event applied; older events arriving late change nothing.
    (
        "CREATE TABLE billing_subscriptions("
        "account_id BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE, customer_id TEXT,"
        " subscription_id TEXT, status TEXT NOT NULL, plan TEXT NOT NULL, event_at BIGINT NOT NULL)"
    ),
    "CREATE INDEX billing_subscriptions_sub ON billing_subscriptions(subscription_id)",
]
