"""Frames: `page.html` rendered once per page *shape*, then filled in per page by string joins.

178k pages through Jinja2 cost ~80 µs each in template overhead alone. But a record page's
template only prints strings and tests booleans, so its output is a fixed sequence of static
text and value slots for every page with the same booleans (its shape): code or browse page,
has a parent, has children, shows a contents list, which strings are empty... A frame is that
sequence, rendered by Jinja2 itself with sentinel values, so the theme keeps full control of the
markup. Filling a frame is a join.

The contract for `page.html` (and the templates it extends or includes), documented for theme
authors in `themes/default/templates/_fragments.md`: every `page.*` value (and `title`,
`canonical`) is printed, tested for emptiness (`if`, `not`, `and`, `or`, `x if … else y`),
joined with `~`, or passed through `|safe` — never compared, filtered, sliced, called or assigned.
A frame cannot reproduce anything else: `{% if page.kind == 'chapter' %}` would take the same
branch on every page of a shape, `{{ page.title|upper }}` would print the sentinel.

So a frame fails loudly instead: the templates are checked for such constructs when a renderer
is made, and the first page of every shape is also rendered with plain Jinja2 and compared with
its frame. Either problem stops the build with a `FrameError` naming the template and the
construct.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2 import nodes
from markupsafe import Markup
from markupsafe._speedups import _escape_inner as _fast_escape  # see fragments.py

from .errors import BuildError
from .fragments import narrow
from .render import Ctx, render_page

_SENTINEL = re.compile("\x00([a-z_.]+)\x00")
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)

# Top-level variables that vary per page (besides `page`).
TOP_SLOTS = ("title", "canonical")
CONTRACT = (
    "a frame renders page.html once per page shape, so page values may only be printed, tested "
    "for emptiness, joined with ~ or passed through |safe (see themes/default/templates/_fragments.md)"
)


class FrameError(BuildError):
    """page.html used a page value in a way a frame cannot reproduce."""


class FrameRenderer:
    """Renders record pages through cached frames of one template."""

    def __init__(self, template: jinja2.Template) -> None:
        self.template = template
        self.frames: dict[tuple[Any, ...], list[str]] = {}
        self.fills: dict[tuple[Any, ...], Fill] = {}  # per shape: `compile_fill` of its frame
        check_contract(template)

    @staticmethod
    def shape(page: dict[str, Any]) -> tuple[bool, ...]:
        """Which values are empty, in the page's key order (a page's keys come in one order)."""
        return tuple(map(bool, page.values()))

    def render(self, base: dict[str, Any], page: dict[str, Any], top: dict[str, str]) -> str:
        key = self.shape(page)
        fill = self.fills.get(key)
        if fill is None:
            frame = self._make(base, page)
            slots = [
                (frame[j].startswith("page."), frame[j].removeprefix("page."), frame[j + 1])
                for j in range(1, len(frame), 2)
            ]
            out = self._fill(frame, slots, page, top)
            self._compare(out, base, page, top)
            fill = compile_fill(frame, slots)
            if fill(page, top) != out:
                raise FrameError(f"{self.template.name}: the compiled frame of page {page.get('url', '?')} "
                                 "differs from its frame (a bug of frames.compile_fill)")
            self.frames[key], self.fills[key] = frame, fill
            return out
        return fill(page, top)

    @staticmethod
    def _fill(
        frame: list[str], slots: list[tuple[bool, str, str]], page: dict[str, Any], top: dict[str, str]
    ) -> str:
        out = [frame[0]]
        append = out.append
        for from_page, name, static in slots:
            value = page[name] if from_page else top[name]
            if type(value) is str:  # `escape`, inlined: ~20 values a page
                value = _fast_escape(value)
                if not value.isascii():
                    value = narrow(value)
            elif not isinstance(value, str):
                value = str(value)
            append(value)  # a Markup joins as it is
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
                    f"{self.template.name}: page.{name} is a {type(value).__name__}; "
                    "page.html frames take only strings and booleans"
                )
        ctx = dict(base)
        ctx["page"] = probe
        for name in TOP_SLOTS:
            ctx[name] = Markup(f"\x00{name}\x00")
        parts = [narrow(part) for part in _SENTINEL.split(render_page(self.template, ctx))]
        for static in parts[::2]:
            if "\x00" in static:
                left = static[static.index("\x00") + 1 :].split("\x00", 1)[0]
                raise FrameError(
                    f"{self.template.name}: a page value was changed before it was printed (the frame holds "
                    f"{left!r}, a filter or method applied to a sentinel); {CONTRACT}"
                )
        return parts

    def _compare(self, out: str, base: dict[str, Any], page: dict[str, Any], top: dict[str, str]) -> None:
        """The first page of a shape, rendered plainly, must equal its frame."""
        plain = narrow(render_page(self.template, {**base, "page": page, **top}))
        if plain == out:
            return
        pairs = enumerate(zip(out, plain, strict=False))
        at = next((i for i, (a, b) in pairs if a != b), min(len(out), len(plain)))
        line = plain.count("\n", 0, at) + 1
        raise FrameError(
            f"{self.template.name}: the frame of page {page.get('url', '?')} differs from plain Jinja2 at "
            f"output line {line}: frame {out[max(0, at - 40) : at + 40]!r}, "
            f"plain {plain[max(0, at - 40) : at + 40]!r}; "
            f"{CONTRACT}"
        )


# A frame's fill as one expression: `fill(page, top)` is what `FrameRenderer._fill` returns.
Fill = Callable[[dict[str, Any], dict[str, str]], str]


def _other(value: object) -> str:
    """A value neither a plain str nor a Markup, as `FrameRenderer._fill` prints it."""
    return value if isinstance(value, str) else str(value)


def compile_fill(frame: list[str], slots: list[tuple[bool, str, str]]) -> Fill:
    """`frame` filled by one join of a tuple, built by generated code: a page's ~40 slots cost a
    loop of lookups, type tests and appends in `FrameRenderer._fill`, several times what one
    expression does. Each value is printed as `_fill` prints it (a plain str escaped and
    narrowed, a Markup as it is, anything else as `str`); `render` checks the first page of
    each shape against `_fill`.
    """
    items = [repr(frame[0])]
    for from_page, name, static in slots:
        src = f"{'p' if from_page else 't'}[{name!r}]"
        items.append(
            f"((e if (e := _esc(v)).isascii() else _narrow(e)) if (tv := type(v := {src})) is str "
            "else v if tv is _Markup else _other(v))"
        )
        items.append(repr(static))
    code = "def fill(p, t):\n    return ''.join((\n        " + ",\n        ".join(items) + ",\n    ))\n"
    space: dict[str, Any] = {"_esc": _fast_escape, "_narrow": narrow, "_Markup": Markup, "_other": _other}
    exec(compile(code, "<frame fill>", "exec"), space)  # our own code, from the frame's parts
    fill: Fill = space["fill"]
    return fill


# ---------------------------------------------------------------------------------------------
# The static check


def check_contract(template: jinja2.Template) -> None:
    """Raises FrameError naming every construct of `template` (and the templates it extends or
    includes) that uses a page value in a way frames cannot reproduce."""
    env = template.environment
    if template.name is None or env.loader is None:
        return  # a template made from a string: only the comparison with plain Jinja2 applies
    found: list[str] = []
    todo, seen = [template.name], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = env.loader.get_source(env, name)[0]
        tree = env.parse(source, name)
        targets = [n.template for n in tree.find_all(nodes.Extends)]
        targets += [n.template for n in tree.find_all(nodes.Include)]
        for target in targets:
            if isinstance(target, nodes.Const) and isinstance(target.value, str):
                todo.append(target.value)
        found += [
            f"{name}:{line}: {_construct(source, line, what)}: {why}"
            for line, what, why in _misuses(tree)
        ]
    if found:
        raise FrameError("; ".join(found) + f" — {CONTRACT}")


def _misuses(tree: nodes.Template) -> list[tuple[int, str, str]]:
    """(line, page value, what is done to it) for each forbidden use in a parsed template."""
    out: list[tuple[int, str, str]] = []

    def walk(node: nodes.Node, chain: tuple[nodes.Node, ...], bound: frozenset[str]) -> None:
        if isinstance(node, (nodes.Macro, nodes.CallBlock)):
            bound = bound | {arg.name for arg in node.args}  # its arguments shadow the page's names
        if isinstance(node, nodes.For):
            target = node.target
            names = [target, *target.find_all(nodes.Name)]
            bound = bound | {n.name for n in names if isinstance(n, nodes.Name)}
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in bound:
            if node.name == "page":
                value, rest = _page_value(node, chain)
                if value is None:
                    out.append((node.lineno, "page", "page is used as a whole; use its values (page.x)"))
                else:
                    _check_value(value, rest, out)
            elif node.name in TOP_SLOTS:
                _check_value(node, chain, out)
        for child in node.iter_child_nodes():
            walk(child, (*chain, node), bound)

    walk(tree, (), frozenset())
    return out


def _page_value(
    name: nodes.Name, chain: tuple[nodes.Node, ...]
) -> tuple[nodes.Node | None, tuple[nodes.Node, ...]]:
    parent = chain[-1] if chain else None
    if isinstance(parent, nodes.Getattr) and parent.node is name:
        return parent, chain[:-1]
    return None, chain


def _check_value(value: nodes.Node, chain: tuple[nodes.Node, ...], out: list[tuple[int, str, str]]) -> None:
    """Walks up from a page value while it is still printed as is; records where it stops being."""
    label = f"page.{value.attr}" if isinstance(value, nodes.Getattr) else getattr(value, "name", "?")
    cur = value
    for parent in reversed(chain):
        if isinstance(parent, nodes.Output):
            return
        if isinstance(parent, (nodes.If, nodes.CondExpr)) and parent.test is cur:
            return  # tested for emptiness
        if isinstance(parent, nodes.Not):
            return
        if isinstance(parent, (nodes.Concat, nodes.And, nodes.Or, nodes.CondExpr)) or (
            isinstance(parent, nodes.Filter) and parent.name == "safe" and parent.node is cur
        ):
            cur = parent  # still the value (or a string holding it): look further up
            continue
        out.append((getattr(parent, "lineno", None) or value.lineno, label, _verb(parent, label)))
        return


_OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "lteq": "<=", "gt": ">", "gteq": ">=", "notin": "not in"}


def _verb(node: nodes.Node, label: str) -> str:
    if isinstance(node, nodes.Compare):
        return f"{label} is compared ({' '.join(_OPERATORS.get(op.op, op.op) for op in node.ops)})"
    if isinstance(node, nodes.Filter):
        return f"{label} is filtered with |{node.name}"
    if isinstance(node, nodes.Test):
        return f"{label} is tested with 'is {node.name}'"
    if isinstance(node, nodes.Call):
        return f"{label} is called or passed to a call"
    if isinstance(node, (nodes.Getattr, nodes.Getitem, nodes.Slice)):
        return f"{label} is indexed or has an attribute taken"
    if isinstance(node, (nodes.Assign, nodes.AssignBlock, nodes.With)):
        return f"{label} is assigned to a variable"
    if isinstance(node, nodes.For):
        return f"{label} is iterated"
    return f"{label} is used in a {type(node).__name__} expression"


def _construct(source: str, line: int, label: str) -> str:
    """The template tag on `line` that mentions `label`, as written (else the line itself)."""
    for m in _TAG.finditer(source):
        first = source.count("\n", 0, m.start()) + 1
        last = first + m.group().count("\n")
        if first <= line <= last and label.split(".")[-1] in m.group():
            return " ".join(m.group().split())
    lines = source.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else label
