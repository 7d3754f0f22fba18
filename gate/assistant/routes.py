"""The gate's CasePilot endpoints: POST /gate/ask (JSON, or the no-JavaScript form) and GET /gate/asks."""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

from generator.config import AskPlan

from .. import context
from ..accounts.sessions import new_id
from ..core import Gate, Visitor
from ..db import Conn, Unavailable
from ..security import refusal
from ..web import BadInput, error, read_fields
from . import asks
from .answer import Answer, BadQuestion, CasePilot
from .facts import FactsMissing

log = logging.getLogger("coderef.assistant")
BODY_LIMIT = 8 * 1024  # a 500-character question and its context, JSON-escaped, with room to spare
RATE_WINDOW = 60
ANSWER_MARK = ("<!--answer-->", "<!--/answer-->")

MESSAGES = {
    "empty_question": (400, "Ask a question in words, e.g. 'What is CPT code 99213?'."),
    "question_too_long": (400, "Questions are limited to 500 characters; shorten it."),
    "rate_limited": (429, "Too many questions in a short time. Wait a minute and ask again."),
    "assistant_off": (404, "CasePilot is switched off on this site."),
}


def _plan(gate: Gate, plan: str) -> AskPlan:
    return asks.plan_for(gate.site.assistant.plans, plan)



def _exhausted(gate: Gate, v: Visitor, plan: AskPlan) -> tuple[str, str]:
    when = asks.period_words(plan.per)
    if v.account is None:
        free = gate.site.assistant.plans.get("free")
        more = (
            ""
            if free is None
            else (
                " for unlimited questions"
                if free.asks is None
                else f" for {free.asks} questions {asks.period_words(free.per)}".rstrip()
            )
        )
        return "guest_limit", (
            f"You have used your {plan.asks} free question{'s' if plan.asks != 1 else ''}"
            f"{' ' + when if when else ''}. Create a free account{more}."
        )
    return f"{v.plan}_limit", (
        f"You have used all {plan.asks} questions of your plan{' ' + when if when else ''}. "
        "Upgrade to a paid plan for unlimited questions."
    )


async def ask(request: Request) -> Response:
    gate: Gate = request.app.state.gate
    pilot: CasePilot = request.app.state.casepilot
    ctx = context.of(request)
    form = ctx.form
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    if not gate.site.assistant.enabled:
        return _fail(gate, form, "assistant_off", None)
    fields = await read_fields(request, ctx, BODY_LIMIT, gate.settings.body_timeout)
    question, asked_on = fields.get("question", ""), fields.get("context", "") or None
    try:
        from .answer import check_question

        check_question(question)
    except BadQuestion as exc:
        return _fail(
            gate, form, "question_too_long" if exc.code == "too_long" else "empty_question", question
        )
    v = await gate.visitor(ctx)
    new_guest = None
    subject = v.subject
    if subject is None:
        new_guest = new_id()
        subject = f"g:{new_guest}"
    plan = _plan(gate, v.plan)
    ip = ctx.ip
    limit = gate.site.assistant.rate_limit

    def meter(conn: Conn) -> tuple[str, int | None]:
        if not asks.rate(conn, ip, limit):
            return "rate_limited", None
        taken = asks.take(conn, subject, plan)
        return ("ok" if taken.ok else "exhausted"), taken.left

    outcome, left = await gate.db.run(meter)
    response: Response
    if outcome == "rate_limited":
        response = _fail(gate, form, "rate_limited", question)
        response.headers["Retry-After"] = str(RATE_WINDOW)
    elif outcome == "exhausted":
        reason, message = _exhausted(gate, v, plan)
        if form:
            response = _page(gate, question, _notice(message, wall=True), 402)
        else:
            response = error("asks_exhausted", message, status=402, reason=reason, asks_left=0)
    else:
        try:
            answer = await pilot.answer_async(question, asked_on)
        except FactsMissing as exc:
            await gate.db.run(asks.give_back, subject, plan)
            raise Unavailable(str(exc)) from exc
        except BaseException:
            await gate.db.run(asks.give_back, subject, plan)
            raise
        response = (
            _page(gate, question, _answer_html(answer, asks.left_words(left, plan.per)), 200)
            if form
            else JSONResponse({**_payload(answer, left), "asks_message": asks.left_words(left, plan.per)})
        )
    if new_guest is not None:
        gate.set_guest(ctx, response, new_guest)
    return response


def _payload(answer: Answer, left: int | None) -> dict[str, Any]:
    return {
        "answer": answer.as_json(),
        "citations": [c.as_json() for c in answer.citations],
        "asks_left": left,
        "topic": answer.topic,
        "kind": answer.kind,
        "model": answer.model,
    }


async def status(request: Request) -> Response:
    """GET /gate/asks: the visitor's questions left, for the box's "2 questions left today"."""
    gate: Gate = request.app.state.gate
    v = await gate.visitor(context.of(request))
    plan = _plan(gate, v.plan)
    left = await gate.db.run(asks.left, v.subject, plan)
    return JSONResponse(
        {
            "asks_left": left,
            "allowance": plan.asks,
            "per": plan.per,
            "plan": v.plan,
            "message": asks.left_words(left, plan.per),
            "enabled": gate.site.assistant.enabled,
        }
    )


def _fail(gate: Gate, form: bool, code: str, question: str | None) -> Response:
    status_code, message = MESSAGES[code]
    if form:
        return _page(gate, question or "", _notice(message), status_code)
    return error(code, message, status=status_code)


def _notice(message: str, wall: bool = False) -> str:
    if wall:
        return (
            f'<div class="wall ask-wall"><p class="wall-text">{escape(message)}</p><p class="wall-actions">'
            '<a class="btn" href="/register/?next=/casepilot/">Create free account</a> '
            '<a class="wall-login" href="/login/?next=/casepilot/">Log in</a></p></div>'
        )
    return f'<p class="error" role="alert">{escape(message)}</p>'


def _answer_html(answer: Answer, left: str) -> str:
    cites = "".join(
        f'<li><a href="{escape(c.url)}">{escape(c.title)}</a>'
        f'{" — " + escape(c.release) if c.release else ""}</li>'
        for c in answer.citations
    )
    return (
        f'<div class="ask-result" data-kind="{escape(answer.kind)}">{answer.html}'
        + (
            f'<p class="ask-sources-title"><strong>Sources</strong></p><ul class="ask-sources">{cites}</ul>'
            if cites
            else ""
        )
        + f'<p class="ask-left">{escape(left)}</p></div>'
    )


def _page(gate: Gate, question: str, inner: str, status_code: int) -> Response:
    """The no-JavaScript answer: the built /casepilot/ page (a theme template) with the answer in place."""
    site = gate.site_dir()
    path = site / "casepilot" / "index.html"
    asked = (
        f'<p class="ask-question"><strong>Your question:</strong> {escape(question)}</p>' if question else ""
    )
    if not path.is_file():
        raise BadInput("not_found", "The CasePilot page has not been built yet.")
    html = path.read_text(encoding="utf-8")
    start, end = ANSWER_MARK
    a, b = html.find(start), html.find(end)
    if a < 0 or b < a:
        raise Unavailable(f"{path} lacks the {start} marker: the theme's casepilot.html must keep it")
    body = html[: a + len(start)] + asked + inner + html[b:]
    return HTMLResponse(body, status_code=status_code)
