"""Frames: `page.html` rendered once per page *shape*, then filled in per page by string joins.

178k pages through Jinja2 cost ~80 µs each in template overhead alone. But a record page's
template only prints strings and tests booleans, so its output is a fixed sequence of static
text and value slots for every page with the same booleans (its shape): code or browse page,
has a parent, has children, shows a contents list, which strings are empty... A frame is that
sequence, rendered by Jinja2 itself with sentinel values, so the theme keeps full control of the
markup. Filling a frame is a join.

The contract for `page.html` (checked when a frame is made, and by tests that compare frames
with plain Jinja2 output for every page of the sample site): every `page.*` value is a string
(printed, possibly tested for emptiness) or a bool (tested); strings are never compared, sliced
or filtered except with `|safe`.
"""
from __future__ import annotations

import re
from typing import Any

import jinja2
from markupsafe import Markup

from .fragments import escape, narrow
from .render import Ctx, render_page

_SENTINEL = re.compile("\x00([a-z_.]+)\x00")

# Top-level variables that vary per page (besides `page`).
TOP_SLOTS = ("title", "canonical")


class FrameError(Exception):
    """page.html used a page value in a way a frame cannot reproduce."""


class FrameRenderer:
    """Renders record pages through cached frames of one template."""

    def __init__(self, template: jinja2.Template) -> None:
        self.template = template
        self.frames: dict[tuple[Any, ...], list[str]] = {}
        self.slots: dict[tuple[Any, ...], list[tuple[bool, str, str]]] = {}

    @staticmethod
    def shape(page: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(v if v is True or v is False else bool(v) for v in page.values())

    def render(self, base: dict[str, Any], page: dict[str, Any], top: dict[str, str]) -> str:
        key = self.shape(page)
        frame = self.frames.get(key)
        if frame is None:
            frame = self.frames[key] = self._make(base, page)
            self.slots[key] = [
                (frame[j].startswith("page."), frame[j].removeprefix("page."), frame[j + 1])
                for j in range(1, len(frame), 2)
            ]
        out = [frame[0]]
        append = out.append
        for from_page, name, static in self.slots[key]:
            value = page[name] if from_page else top[name]
            append(escape(value) if type(value) is str else str(value))
            append(static)
        return "".join(out)

    def _make(self, base: dict[str, Any], page: dict[str, Any]) -> list[str]:
        probe = Ctx()  # stands in for `page`: strings become sentinels
        for name, value in page.items():
            if value is True or value is False or value is None:
                probe[name] = value
            elif isinstance(value, str):
                probe[name] = Markup(f"\x00page.{name}\x00") if value else value
            else:
                raise FrameError(
                    f"page.{name} is a {type(value).__name__}; "
                    "page.html frames take only strings and booleans"
                )
        ctx = dict(base)
        ctx["page"] = probe
        for name in TOP_SLOTS:
            ctx[name] = Markup(f"\x00{name}\x00")
        return [narrow(part) for part in _SENTINEL.split(render_page(self.template, ctx))]
