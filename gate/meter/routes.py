"""The meter's routes: session state, the routed unlock, the no-JavaScript code page, the account page."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator.urls import ACCOUNT, gate_endpoint, gate_page_path, login_path, page_path

from .. import context, pages
from ..assistant import asks
from ..consult.account import quota_text
from ..core import Gate, Visitor
from ..db import Conn
from ..web import MESSAGES, error
from . import allowance, answers, decision


async def session(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    v = await gate.visitor(ctx)
    gid = None if v.account else v.guest_id
    return JSONResponse(await gate.db.run(decision.session_payload, gate, v.account, gid, ctx.ip))


async def unlock(request: Request) -> Response:
    """POST /gate/unlock/…: HTML form posts land here (JSON calls are answered by `hotpath` first,
    with the same decision and answer)."""
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    codeset, code = request.path_params["codeset"], request.path_params["code"]
    u = await decision.unlock(gate, ctx, codeset, code)
    if not ctx.form or u.error is not None:
        return answers.response(gate, ctx, u, codeset, code)
    response = RedirectResponse(gate_page_path(codeset, code), status_code=303)
    if u.new_guest is not None:
        gate.set_guest(ctx, response, u.new_guest)
    return response


def viewer(gate: Gate, v: Visitor, payload: dict[str, Any]) -> pages.Viewer:
    return pages.Viewer(v.account.email if v.account else None, str(payload["plan"]), payload["views_left"],
                        payload["words"])


async def page(request: Request) -> Response:
    """The code page without JavaScript: its protected sections spliced in when unlocked (or
    free), else an Unlock form or the wall; header and meter filled for the visitor."""
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    codeset, code = request.path_params["codeset"], request.path_params["code"]
    gate.store.entry(codeset, code)  # 404 for unknown codes (nothing rendered)
    v = await gate.visitor(ctx)
    period = gate.period()
    subject, plan = v.subject, gate.plan_of(v.account) if v.account else "guest"
    free = gate.store.is_free(codeset, code)

    def state(conn: Conn) -> tuple[bool, bool, dict[str, Any]]:
        done = free or (subject is not None and allowance.is_unlocked(conn, subject, period, codeset, code))
        capped = decision.views_left(conn, gate, subject, plan, ctx.ip, period)[2]
        return done, capped, decision.session_payload(conn, gate, v.account, v.guest_id, ctx.ip)

    done, capped, payload = await gate.db.run(state)
    html = pages.built_page(gate.site_dir(), page_path(codeset, code))
    if html is None:
        return error("not_found", f"The page of {code} has not been built yet.", status=404)
    left = payload["views_left"]
    if done:
        by_id = {s.id: s.html for s in await gate.store.sections(codeset, code)}
        body = pages.splice(html, lambda sid: by_id.get(sid) or pages.missing_section())
    elif left is None or left > 0:
        body = pages.splice(html, lambda sid: pages.unlock_form(codeset, code, payload["words"], left))
    else:
        body = pages.splice(html, lambda sid: pages.wall(gate.site.meter, plan, codeset, code, capped=capped))
    return HTMLResponse(pages.personalise(body, viewer(gate, v, payload)))


async def account(request: Request) -> Response:
    """The account page without JavaScript: the built /account/ page filled in."""
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    v = await gate.visitor(ctx)
    if v.account is None:
        return RedirectResponse(login_path(gate_endpoint("account")), status_code=303)
    payload = await gate.db.run(decision.session_payload, gate, v.account, None, ctx.ip)
    html = pages.built_page(gate.site_dir(), ACCOUNT)
    if html is None:
        return error("unavailable", "The site has not been built yet: run `coderef build`.")
    code = request.query_params.get("error")
    allow = payload["allowance"]
    unlocked = [(u["codeset"], u["code"], gate.store.title(u["codeset"], u["code"]) or "")
                for u in payload["unlocked"]]
    body = pages.account_page(
        html, viewer(gate, v, payload), plan_name=v.account.plan.capitalize(),
        used=f"{payload['views_used']} of {'unlimited' if allow is None else allow}", unlocked=unlocked,
        error=MESSAGES[code][1] if code in MESSAGES else None, consult=await quota_text(gate, v.account),
        asks_left=await gate.db.run(asks.left_message, gate.site.assistant.plans, v.subject, v.plan),
    )
    return HTMLResponse(body)
