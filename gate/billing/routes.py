"""/plans/, POST /gate/billing/checkout, GET /gate/billing/done and POST /gate/billing/webhook."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import anyio.to_thread
import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from .. import context
from ..assistant import asks
from ..core import Gate
from ..posts import read_post
from ..views import Views
from ..web import error
from . import events
from .checkout import CheckoutError, create_session
from .settings import BillingSettings

log = logging.getLogger("coderef.billing")
MAX_EVENT = 512 * 1024  # bytes: Stripe events are a few KB


def _billing(request: Request) -> BillingSettings:
    settings: BillingSettings = request.app.state.gate.settings.billing
    return settings


def _period(spec: str) -> str:
    return {"month": "a month", "lifetime": "in all"}.get(
        spec, f"per {spec[8:]} days" if spec.startswith("rolling:") else ""
    )


def plan_cards(gate: Gate, current: str | None, billing: BillingSettings) -> list[dict[str, Any]]:
    site = gate.site
    cards = []
    for name, info in site.plans.items():
        views = site.meter.plans.get(name)
        consults = site.consult.plans.get(name, 0)
        includes = [
            "Unlimited code pages" if views is None else f"{views} code pages {_period(site.meter.period)}",
            "Unlimited consult questions"
            if consults is None
            else (
                f"{consults} consult question{'s' if consults != 1 else ''} {_period(site.consult.period)}"
                if consults
                else "No consult questions"
            ),
        ]
        if site.assistant.enabled:
            includes.append(asks.allowance_words(asks.plan_for(site.assistant.plans, name)))
        cards.append(
            {
                "name": name,
                "title": info.title,
                "price": info.price,
                "summary": info.summary,
                "includes": includes,
                "current": name == current,
                "buy": billing.checkout and bool(info.stripe_price) and name != current,
            }
        )
    return cards


async def plans(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    views: Views = request.app.state.views
    visitor = await gate.visitor(context.of(request))
    current = visitor.account.plan if visitor.account else None
    billing = _billing(request)
    code = request.query_params.get("error")
    pilot = gate.site.assistant
    asks_left = ""
    if pilot.enabled:
        asks_left = await gate.db.run(asks.left_message, pilot.plans, visitor.subject, visitor.plan)
    guest = asks.plan_for(pilot.plans, "guest")
    return views.page(
        "plans.html",
        "/plans/",
        "Plans",
        cards=plan_cards(gate, current, billing),
        asks_left=asks_left,
        guest_asks=asks.allowance_words(guest) if pilot.enabled and "guest" in pilot.plans else "",
        logged_in=current is not None,
        checkout=billing.checkout,
        contact=gate.site.contact,
        problem="Payment could not be started. Try again in a moment." if code == "checkout" else None,
    )


async def checkout(request: Request) -> Response:
    post = await read_post(request)
    if isinstance(post, Response):
        return post
    gate, fields = post.gate, post.fields
    account = (await gate.visitor(context.of(request))).account
    if account is None:
        return RedirectResponse("/login/?next=/plans/", status_code=303)
    billing = _billing(request)
    name = fields.get("plan", "")
    info = gate.site.plans.get(name)
    if not billing.checkout or info is None or not info.stripe_price:
        return error("not_found", "This plan cannot be bought online.", status=404)
    try:
        url = await anyio.to_thread.run_sync(
            lambda: create_session(
                billing,
                account_id=account.id,
                email=account.email,
                plan=name,
                price=info.stripe_price,
                base_url=gate.site.base_url.rstrip("/"),
            )
        )
    except CheckoutError as exc:
        log.error("checkout for account %d failed: %s", account.id, exc)
        return RedirectResponse("/plans/?error=checkout", status_code=303)
    return RedirectResponse(url, status_code=303)


async def done(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    views: Views = request.app.state.views
    visitor = await gate.visitor(context.of(request))
    plan = visitor.account.plan if visitor.account else None
    title = gate.site.plans[plan].title if plan in gate.site.plans else plan
    return views.page("billing_done.html", "/gate/billing/done", "Thank you", plan=title)


async def webhook(request: Request) -> Response:
    """Stripe's events: the signature (and its timestamp window) is checked before anything is read."""
    gate: Gate = request.app.state.gate
    billing = _billing(request)
    if billing.webhook_secret is None:
        return error("not_found", "Billing is not configured here.", status=404)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_EVENT:
        return error("payload_too_large")
    payload = await request.body()
    if len(payload) > MAX_EVENT:
        return error("payload_too_large")
    header = request.headers.get("stripe-signature", "")
    try:
        text = payload.decode("utf-8")
        stripe.WebhookSignature.verify_header(text, header, str(billing.webhook_secret), billing.tolerance)
        event = json.loads(text)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError):
        return error("bad_signature", "The Stripe signature is missing, wrong or too old.", status=400)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        return error("bad_request", "Not a Stripe event.", status=400)
    applied = await gate.db.run(events.apply, gate.site, event)
    if applied.plan is not None:
        log.info(
            "stripe %s %s: account %s now on plan %s",
            event.get("type"),
            event["id"],
            applied.account_id,
            applied.plan,
        )
    return JSONResponse({"received": True, "duplicate": applied.duplicate, "at": int(time.time())})
