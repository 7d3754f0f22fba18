"""Stripe settings from the environment: CODEREF_STRIPE_SECRET_KEY, _WEBHOOK_SECRET, _API_BASE."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import Secret


class BillingSettingsError(ValueError):
    """A Stripe setting that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class BillingSettings:
    secret_key: Secret | None = None  # sk_live_… / sk_test_…: Checkout is offered only with it
    webhook_secret: Secret | None = None  # whsec_…: the webhook refuses everything without it
    api_base: str | None = None  # another Stripe API address (a local stand-in for tests)
    tolerance: int = 300  # seconds a webhook signature's timestamp may be off

    @property
    def checkout(self) -> bool:
        return self.secret_key is not None


def load_billing_settings(get: Callable[[str], str | None]) -> BillingSettings:
    key = (get("CODEREF_STRIPE_SECRET_KEY") or "").strip()
    if key and not key.startswith(("sk_", "rk_")):
        raise BillingSettingsError(
            "CODEREF_STRIPE_SECRET_KEY must be a Stripe secret key (sk_live_… or sk_test_…)"
        )
    hook = (get("CODEREF_STRIPE_WEBHOOK_SECRET") or "").strip()
    if hook and not hook.startswith("whsec_"):
        raise BillingSettingsError("CODEREF_STRIPE_WEBHOOK_SECRET must be a webhook signing secret (whsec_…)")
    base = (get("CODEREF_STRIPE_API_BASE") or "").strip().rstrip("/") or None
    if base is not None and not base.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise BillingSettingsError(
            "CODEREF_STRIPE_API_BASE must be https:// (or http:// on loopback, for tests)"
        )
    raw_tolerance = (get("CODEREF_STRIPE_TOLERANCE") or "300").strip()
    if not raw_tolerance.isdigit() or not 1 <= int(raw_tolerance) <= 3600:
        raise BillingSettingsError("CODEREF_STRIPE_TOLERANCE must be 1 to 3600 seconds")
    return BillingSettings(
        Secret(key) if key else None, Secret(hook) if hook else None, base, int(raw_tolerance)
    )
