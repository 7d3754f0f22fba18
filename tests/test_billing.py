"""Plans and Stripe: the /plans/ page, Checkout against a local Stripe stand-in, and the signed webhook."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe
from fixtures.mail.gatekit import gate_client, gate_root
from fixtures.mail.stripekit import stripe_standin

from gate.db import Database

WHSEC = "whsec_test_" + "s" * 24
PLANS = """plans:
  free: {title: Free, price: "$0", summary: For occasional lookups.}
  paid: {title: Professional, price: "$19 / month", stripe_price: price_123}
contact: help@codes.example.org
"""
PASSWORD = "a long enough passphrase"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return gate_root(tmp_path, PLANS)


def signed(event: dict[str, Any], secret: str = WHSEC, at: int | None = None) -> tuple[bytes, dict[str, str]]:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(
        payload, secret, timestamp=at or int(time.time())
    )
    return payload.encode(), {"stripe-signature": header, "content-type": "application/json"}


def event(kind: str, obj: dict[str, Any], eid: str, created: int | None = None) -> dict[str, Any]:
    return {
        "id": eid,
        "object": "event",
        "type": kind,
        "created": created or int(time.time()),
        "data": {"object": obj},
    }


def plan_of(root: Path, email: str) -> str:
    db = Database(None, root / "var" / "gate.sqlite")
    try:
        return str(db.call(lambda conn: conn.one("SELECT plan FROM accounts WHERE email=?", (email,)))[0])
    finally:
        db.close()


@pytest.fixture
def c(root: Path) -> Iterator[Any]:
    with gate_client(root, CODEREF_STRIPE_WEBHOOK_SECRET=WHSEC) as client:
        assert (
            client.post("/gate/register", json={"email": "ann@example.org", "password": PASSWORD}).status_code
            == 201
        )
        yield client


def completed(account_id: int = 1, eid: str = "evt_1") -> dict[str, Any]:
    return event(
        "checkout.session.completed",
        {
            "id": "cs_test_1",
            "object": "checkout.session",
            "status": "complete",
            "client_reference_id": str(account_id),
            "customer": "cus_1",
            "subscription": "sub_1",
            "metadata": {"account_id": str(account_id), "plan": "paid"},
        },
        eid,
    )


def test_checkout_completed_sets_the_plan_once_even_if_delivered_twice(root: Path, c: Any) -> None:
    body, headers = signed(completed())
    first = c.post("/gate/billing/webhook", content=body, headers=headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert plan_of(root, "ann@example.org") == "paid"
    assert c.get("/gate/session").json()["views_left"] is None  # unlimited at once
    db = Database(None, root / "var" / "gate.sqlite")
    db.call(lambda conn: conn.execute("UPDATE accounts SET plan='free'"))  # the operator changed it since
    db.close()
    again = c.post("/gate/billing/webhook", content=body, headers=headers)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert plan_of(root, "ann@example.org") == "free"  # the redelivery changed nothing


@pytest.mark.parametrize("how", ["wrong-secret", "stale", "tampered", "missing"])
def test_bad_signatures_are_refused_and_change_nothing(root: Path, c: Any, how: str) -> None:
    ev = completed()
    if how == "wrong-secret":
        body, headers = signed(ev, secret="whsec_other_" + "x" * 20)
    elif how == "stale":
        body, headers = signed(ev, at=int(time.time()) - 600)
    elif how == "tampered":
        body, headers = signed(ev)
        body = body.replace(b'"paid"', b'"paid" ')
    else:
        body, headers = signed(ev)
        del headers["stripe-signature"]
    r = c.post("/gate/billing/webhook", content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"] == "bad_signature"
    assert plan_of(root, "ann@example.org") == "free"
    good_body, good_headers = signed(ev)  # the same event id, properly signed, still applies
    assert (
        c.post("/gate/billing/webhook", content=good_body, headers=good_headers).json()["duplicate"] is False
    )
    assert plan_of(root, "ann@example.org") == "paid"


def test_subscription_updates_and_cancellation(root: Path, c: Any) -> None:
    now = int(time.time())
    body, headers = signed(completed())
    c.post("/gate/billing/webhook", content=body, headers=headers)
    sub = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "metadata": {"account_id": "1"},
        "items": {"data": [{"price": {"id": "price_123"}}]},
    }

    def send(kind: str, status: str, eid: str, created: int) -> None:
        b, h = signed(event(kind, {**sub, "status": status}, eid, created))
        assert c.post("/gate/billing/webhook", content=b, headers=h).status_code == 200

    send("customer.subscription.updated", "past_due", "evt_2", now + 1)
    assert plan_of(root, "ann@example.org") == "paid"  # Stripe is still retrying the card
    send("customer.subscription.updated", "canceled", "evt_3", now + 3)
    assert plan_of(root, "ann@example.org") == "free"
    send("customer.subscription.updated", "active", "evt_late", now + 2)  # older, arriving late
    assert plan_of(root, "ann@example.org") == "free"
    send("customer.subscription.updated", "active", "evt_4", now + 4)
    assert plan_of(root, "ann@example.org") == "paid"
    send("customer.subscription.deleted", "canceled", "evt_5", now + 5)
    assert plan_of(root, "ann@example.org") == "free"


def test_webhook_without_a_secret_is_off(root: Path) -> None:
    with gate_client(root) as c:
        body, headers = signed(completed())
        assert c.post("/gate/billing/webhook", content=body, headers=headers).status_code == 404


def test_plans_page_without_stripe_says_how_to_get_access(root: Path) -> None:
    with gate_client(root) as c:
        page = c.get("/plans/").text
    assert "Professional" in page and "$19 / month" in page and "Unlimited code pages" in page
    assert "6 code pages a month" in page and "1 consult question a month" in page
    assert "coderef accounts set-plan" in page and "help@codes.example.org" in page
    assert "/gate/billing/checkout" not in page  # never a dead button


def test_checkout_against_a_local_stripe(root: Path) -> None:
    with (
        stripe_standin() as api,
        gate_client(root, CODEREF_STRIPE_SECRET_KEY="sk_test_123", CODEREF_STRIPE_API_BASE=api.base) as c,
    ):
        c.post("/gate/register", json={"email": "bob@example.org", "password": PASSWORD})
        page = c.get("/plans/").text
        assert 'action="/gate/billing/checkout"' in page and "Your plan." in page
        r = c.post("/gate/billing/checkout", data={"plan": "paid"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "https://checkout.stripe.com/c/pay/cs_test_1"
        ((method, path, headers, form),) = api.requests
        assert (method, path) == ("POST", "/v1/checkout/sessions")
        assert headers["Authorization"] == "Bearer sk_test_123"
        assert form["mode"] == "subscription" and form["line_items[0][price]"] == "price_123"
        assert form["client_reference_id"] == "1" and form["customer_email"] == "bob@example.org"
        assert form["metadata[plan]"] == "paid" and form["subscription_data[metadata][account_id]"] == "1"
        assert form["success_url"].startswith("https://codes.example.org/gate/billing/done?session_id=")
        assert (
            c.post("/gate/billing/checkout", data={"plan": "free"}, follow_redirects=False).status_code == 404
        )
        api.fail = 500
        failed = c.post("/gate/billing/checkout", data={"plan": "paid"}, follow_redirects=False)
        assert failed.status_code == 303 and failed.headers["location"] == "/plans/?error=checkout"
        assert "Payment could not be started" in c.get("/plans/?error=checkout").text
