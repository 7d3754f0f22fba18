"""The meter's routes: session state, the routed unlock, the no-JavaScript code page, the account page."""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from generator.urls import file_for, gate_page_path, page_path

from .. import context
from ..core import Gate
from ..db import Conn
from ..web import MESSAGES, error
from . import allowance, answers, decision, pages


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


async def page(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    codeset, code = request.path_params["codeset"], request.path_params["code"]
    gate.store.code_json(codeset, code)  # 404 for unknown codes
    v = await gate.visitor(ctx)
    period = gate.period()
    subject, plan = v.subject, v.plan

    def state(conn: Conn) -> tuple[bool, int | None]:
        done = subject is not None and allowance.is_unlocked(conn, subject, period, codeset, code)
        return done, decision.views_left(conn, gate, subject, plan, ctx.ip, period)[1]

    done, left = await gate.db.run(state)
    site = gate.site_dir()
    path = (site / file_for(page_path(codeset, code))).resolve()
    if not path.is_relative_to(site) or not path.is_file():
        return error("not_found", f"The page of {code} has not been built yet.", status=404)
    html = path.read_text(encoding="utf-8")
    if done:
        by_id = {s.id: s.html for s in gate.store.sections(codeset, code)}
        body = pages.splice(html, lambda sid: by_id.get(sid) or pages.missing_section())
    elif left is None or left > 0:
        body = pages.splice(html, lambda sid: pages.unlock_form(codeset, code, left))
    else:
        body = pages.splice(html, lambda sid: pages.wall(plan, codeset, code, gate.allowance_for(plan)))
    return HTMLResponse(body)


async def account(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    v = await gate.visitor(ctx)
    if v.account is None:
        return RedirectResponse("/login/?next=/gate/account", status_code=303)
    data = await gate.db.run(decision.session_payload, gate, v.account, None, ctx.ip)
    code = request.query_params.get("error")
    html = pages.account_page(
        site_name=gate.site.site_name, email=v.account.email, plan=v.account.plan, used=data["views_used"],
        allowance=data["allowance"], unlocked=[(u["codeset"], u["code"]) for u in data["unlocked"]],
        css=pages.stylesheets(gate.site_dir()), error=MESSAGES[code][1] if code in MESSAGES else None,
    )
    return HTMLResponse(html)


