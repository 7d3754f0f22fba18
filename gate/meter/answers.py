"""The one place an `Unlock` becomes an HTTP answer (JSON body, status, cookie)."""
from __future__ import annotations

from starlette.responses import Response

from generator import wording

from ..context import Context
from ..core import Gate
from ..web import error
from . import allowance
from .decision import GRANTED, Unlock


def granted_body(gate: Gate, u: Unlock, codeset: str, code: str) -> bytes | None:
    """The JSON answer of a granted unlock, or None when it was not granted."""
    if u.error is not None or u.outcome not in GRANTED:
        return None
    if u.outcome in (allowance.ALREADY, allowance.FREE):  # cache re-viewed codes, not every first look
        gate.store.remember(codeset, code, u.sections, u.store_version)
    return b'{"sections":' + u.sections + b',"views_left":' + (
        b"null" if u.left is None else str(u.left).encode()
    ) + b"}"


def response(gate: Gate, ctx: Context, u: Unlock, codeset: str, code: str) -> Response:
    """The JSON answer of an unlock: 200 with the sections, 402 with the reason, or the error."""
    body = granted_body(gate, u, codeset, code)
    answer: Response
    if body is not None:
        answer = Response(body, media_type="application/json")
    elif u.error is not None:
        answer = error(u.error, u.message)
    else:
        words = wording.exhausted(gate.site.meter, u.plan, capped=u.outcome == allowance.IP_CAP)
        reason = "ip_cap" if u.outcome == allowance.IP_CAP else f"{u.plan}_limit"
        answer = error("allowance_exhausted", words.text, status=402, reason=reason, views_left=0,
                       title=words.title)
    if u.new_guest is not None:
        gate.set_guest(ctx, answer, u.new_guest)
    return answer
