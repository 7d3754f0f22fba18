"""The metered endpoints: session state, unlock, the no-JavaScript code page, the account page."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator.urls import file_for, gate_page_path, page_path

from . import allowance, pages, sessions
from .consult.account import quota_text
from .core import UNVERIFIED, Gate
from .db import Conn
from .sessions import Account
from .web import MESSAGES, error, wants_form


def _left(
    conn: Conn, gate: Gate, subject: str | None, plan: str, ip: str, period: allowance.Period
) -> tuple[int, int | None]:
    """(views used, views left or None for unlimited); guests also count against the per-IP cap."""
    allow = gate.allowance_for(plan)
    used = allowance.used(conn, subject, period) if subject else 0
    if allow is None:
        return used, None
    left = max(0, allow - used)
    if plan == "guest" and left:
        left = min(left, max(0, gate.site.meter.guest_ip_cap - allowance.guest_ip_used(conn, ip, period)))
    return used, left


def session_payload(
    conn: Conn, gate: Gate, account: Account | None, guest_id: str | None, ip: str
) -> dict[str, Any]:
    period = gate.period()
    plan = gate.plan_of(account) if account else "guest"
    subject = account.subject if account else (f"g:{guest_id}" if guest_id else None)
    used, left = _left(conn, gate, subject, plan, ip, period)
    unlocked = allowance.unlocked(conn, subject, period) if subject else []
    return {
        "account": {"email": account.email, "plan": account.plan} if account else None,
        "views_left": left,
        "views_used": used,
        "allowance": gate.allowance_for(plan),
        "unlocked": [{"codeset": cs, "code": c} for cs, c in unlocked],
        "plan": plan,
        "auto_unlock": gate.site.meter.auto_unlock,
    }


async def session(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    v = await gate.visitor(request)
    gid = None if v.account else v.guest_id
    return JSONResponse(await gate.db.run(session_payload, gate, v.account, gid, gate.ip(request)))


def _unlock(conn: Conn, gate: Gate, subject: str, plan: str, codeset: str, code: str, ip: str,
            period: allowance.Period, already: bool | None) -> tuple[str, int | None]:
    """Consumes a view unless `code` is already unlocked (`already`: known answer, None: look it up)."""
    allow = gate.allowance_for(plan)
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
    return outcome, _left(conn, gate, subject, plan, ip, period)[1]


@dataclass(slots=True)
class Unlock:
    """What an unlock request came to: the outcome, views left (None: unlimited), who asked."""

    outcome: str
    left: int | None
    account: Account | None
    plan: str
    new_guest: str | None  # a guest id to hand out in a new guest cookie
    sections: bytes  # the code's protected sections, as the JSON array of the answer
    store_version: object = None  # the protected store they were read from


def _decide(conn: Conn, gate: Gate, sid: str | None, guest_cookie: str | None, ip: str,
            codeset: str, code: str, sections: bytes) -> Unlock:
    now = int(time.time())
    period = gate.period()
    account, already = None, None
    if sid is not None:
        s = gate.settings
        account, unlocked_at = sessions.load_probing(
            conn, sid, now, s.session_idle, s.session_max_age, period.key, codeset, code
        )
        already = unlocked_at is not None and unlocked_at >= period.since
    new_guest = None
    if account is not None:
        subject, plan = account.subject, gate.plan_of(account)
    else:
        plan, already = "guest", None
        gid = gate.signer.guest_id(guest_cookie)
        if gid is None:
            gid = new_guest = sessions.new_id()
            already = False  # a brand-new guest has unlocked nothing
        subject = f"g:{gid}"
    outcome, left = _unlock(conn, gate, subject, plan, codeset, code, ip, period, already)
    return Unlock(outcome, left, account, plan, new_guest, sections)


async def decide(
    gate: Gate, sid: str | None, guest_cookie: str | None, ip: str, codeset: str, code: str
) -> Unlock:
    """The meter's one decision: checks the code, finds the visitor, consumes a view if needed.

    `sid` is the verified session id of the cookie (or None) and `guest_cookie` the raw guest
    cookie; everything runs in one database call (one thread hop on PostgreSQL).
    """
    sections = gate.code_json(codeset, code)  # an unknown code is a 404 before any view is spent
    version = gate.store.version  # a build may bring a new store in while the decision is awaited
    u = await gate.db.run_behind(_decide, gate, sid, guest_cookie, ip, codeset, code, sections)
    u.store_version = version
    return u


def granted_body(gate: Gate, u: Unlock, codeset: str, code: str) -> bytes | None:
    """The JSON answer of a granted unlock, or None when the allowance is spent."""
    if u.outcome not in (allowance.ALREADY, allowance.UNLOCKED):
        return None
    if u.outcome == allowance.ALREADY:  # cache re-viewed codes, not every first look
        gate.store.remember(codeset, code, u.sections, u.store_version)
    return b'{"sections":' + u.sections + b',"views_left":' + (
        b"null" if u.left is None else str(u.left).encode()
    ) + b"}"


def json_answer(gate: Gate, u: Unlock, codeset: str, code: str) -> Response:
    body = granted_body(gate, u, codeset, code)
    if body is not None:
        return Response(body, media_type="application/json")
    reason = "guest_limit" if u.account is None else f"{u.plan}_limit"
    if u.account is None:
        message = (
            "You have used your free code page for this period. Register for a free account to view more."
        )
    elif u.plan == UNVERIFIED:
        message = ("Confirm your email address to get the views of your free account: open the link we mailed"
                   " you, or send a new one from your account page.")
    else:
        n = gate.allowance_for(u.plan)
        message = f"You have used all {n} views of your plan this period. Upgrade for unlimited code pages."
    return error("allowance_exhausted", message, status=402, reason=reason, views_left=0)


async def unlock(request: Request) -> Response:
    """POST /gate/unlock/…: HTML form posts land here; JSON calls are answered by `gate.hotpath` first."""
    from .auth import refusal  # auth imports this module

    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    codeset, code = request.path_params["codeset"], request.path_params["code"]
    sid, guest_cookie = gate.cookies(request)
    u = await decide(gate, sid, guest_cookie, gate.ip(request), codeset, code)
    response: Response
    if wants_form(request):
        response = RedirectResponse(gate_page_path(codeset, code), status_code=303)
    else:
        response = json_answer(gate, u, codeset, code)
    if u.new_guest is not None:
        gate.set_guest(request, response, u.new_guest)
    return response


async def page(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    codeset, code = request.path_params["codeset"], request.path_params["code"]
    gate.code_json(codeset, code)  # 404 for unknown codes
    v = await gate.visitor(request)
    period = gate.period()
    subject, plan, ip = v.subject, gate.plan_of(v.account) if v.account else "guest", gate.ip(request)

    def state(conn: Conn) -> tuple[bool, int | None]:
        done = subject is not None and allowance.is_unlocked(conn, subject, period, codeset, code)
        return done, _left(conn, gate, subject, plan, ip, period)[1]

    done, left = await gate.db.run(state)
    site = gate.site_dir()
    path = (site / file_for(page_path(codeset, code))).resolve()
    if not path.is_relative_to(site) or not path.is_file():
        return error("not_found", f"The page of {code} has not been built yet.", status=404)
    html = path.read_text(encoding="utf-8")
    if done:
        by_id = {s.id: s.html for s in gate.sections(codeset, code)}
        body = pages.splice(html, lambda sid: by_id.get(sid) or pages.missing_section())
    elif left is None or left > 0:
        body = pages.splice(html, lambda sid: pages.unlock_form(codeset, code, left))
    else:
        body = pages.splice(html, lambda sid: pages.wall(plan, codeset, code, gate.allowance_for(plan)))
    return HTMLResponse(body)


async def account(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    v = await gate.visitor(request)
    if v.account is None:
        return RedirectResponse("/login/?next=/gate/account", status_code=303)
    data = await gate.db.run(session_payload, gate, v.account, None, gate.ip(request))
    code = request.query_params.get("error")
    html = pages.account_page(
        site_name=gate.site.site_name, email=v.account.email, plan=v.account.plan, used=data["views_used"],
        allowance=data["allowance"], unlocked=[(u["codeset"], u["code"]) for u in data["unlocked"]],
        css=pages.stylesheets(gate.site_dir()), error=MESSAGES[code][1] if code in MESSAGES else None,
        consult=await quota_text(gate, v.account),
    )
    return HTMLResponse(html)
