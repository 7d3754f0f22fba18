"""Stripe Checkout sessions through the official library (StripeClient, v1 API)."""

from __future__ import annotations

import stripe

from .settings import BillingSettings


class CheckoutError(Exception):
    """Stripe did not create a session; the message is safe to log, not meant for visitors."""


def client(settings: BillingSettings) -> stripe.StripeClient:
    assert settings.secret_key is not None
    kwargs: dict[str, object] = {"max_network_retries": 1}
    if settings.api_base:
        kwargs["base_addresses"] = {"api": settings.api_base}
    return stripe.StripeClient(str(settings.secret_key), **kwargs)  # type: ignore[arg-type]


def create_session(
    settings: BillingSettings, *, account_id: int, email: str, plan: str, price: str, base_url: str
) -> str:
    """A subscription Checkout session for `price`; returns the URL to send the browser to."""
    params: dict[str, object] = {
        "mode": "subscription",
        "line_items": [{"price": price, "quantity": 1}],
        "client_reference_id": str(account_id),
        "customer_email": email,
        "success_url": f"{base_url}/gate/billing/done?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base_url}/plans/",
        "metadata": {"account_id": str(account_id), "plan": plan},
        "subscription_data": {"metadata": {"account_id": str(account_id), "plan": plan}},
    }
    try:
        session = client(settings).v1.checkout.sessions.create(params=params)  # type: ignore[arg-type]
    except stripe.StripeError as exc:
        raise CheckoutError(f"Stripe: {type(exc).__name__}: {exc.user_message or exc}") from None
    url = getattr(session, "url", None)
    if not isinstance(url, str) or (not url.startswith("https://") and "127.0.0.1" not in url):
        raise CheckoutError("Stripe answered without a checkout URL")
    return url
