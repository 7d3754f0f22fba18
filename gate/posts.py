"""The start of every state-changing page handler: refuse cross-site posts, read the bounded body."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from . import context
from .context import Context
from .core import Gate
from .security import refusal
from .web import read_fields


@dataclass(frozen=True, slots=True)
class Post:
    gate: Gate
    ctx: Context
    fields: dict[str, str]

    @property
    def form(self) -> bool:
        """An HTML form post (answer with a redirect or a page), else a fetch() call (JSON)."""
        return self.ctx.form


async def read_post(request: Request, limit: int | None = None) -> Post | Response:
    """The post's fields, or the refusal to send back when it came from another site."""
    gate: Gate = request.app.state.gate
    ctx = context.of(request)
    if (refused := refusal(ctx.cross_site)) is not None:
        return refused
    fields = await read_fields(request, ctx, limit or gate.settings.max_body, gate.settings.body_timeout)
    return Post(gate, ctx, fields)
