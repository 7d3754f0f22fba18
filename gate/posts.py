"""The start of every state-changing page handler: refuse cross-site posts, read the bounded body."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from .auth import refusal
from .core import Gate
from .web import read_fields, wants_form


@dataclass(frozen=True, slots=True)
class Post:
    gate: Gate
    form: bool  # an HTML form post (answer with a redirect or a page), else a fetch() call (JSON)
    fields: dict[str, str]


async def read_post(request: Request, limit: int | None = None) -> Post | Response:
    """The post's fields, or the refusal to send back when it came from another site."""
    gate: Gate = request.app.state.gate
    if (refused := refusal(request, gate)) is not None:
        return refused
    form = wants_form(request)
    return Post(gate, form, await read_fields(request, limit or gate.settings.max_body))
