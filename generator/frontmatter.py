"""YAML front matter + Markdown body files: splitting, parsing with line numbers, errors as path:line."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import Problems

# libyaml when PyYAML has it: the same nodes and marks, ten times faster than the pure-Python parser.
_LOADER = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader
_FRONT = re.compile(r"---[ \t]*\r?\n(.*?)(?:^|\n)---[ \t]*(?:\r?\n|$)", re.DOTALL)


@dataclass(frozen=True)
class Document:
    """A content file split into its parsed front matter and its Markdown body.

    `front` is the YAML node tree (None without front matter); `line()` turns a node's mark into the
    file's 1-based line number.
    """

    front: yaml.Node | None
    body: str
    body_line: int  # the file line the body starts on
    offset: int  # lines before the YAML text (the opening `---`)

    def line(self, node: yaml.Node) -> int:
        return int(node.start_mark.line) + 1 + self.offset


def read_text(path: Path, rel: str, problems: Problems) -> str | None:
    """The file as UTF-8 text, or None (with a problem) when it is not."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(rel, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        return None


def split(text: str, rel: str, problems: Problems) -> Document | None:
    """Parses the front matter of `text`; None (with a problem naming the line) when it is broken."""
    if not text.startswith("---"):
        return Document(None, text, 1, 1)
    m = _FRONT.match(text)
    if m is None:
        problems.error(rel, 1, "front matter starts with '---' but has no closing '---' line")
        return None
    body = text[m.end():]
    body_line = text[: m.end()].count("\n") + 1
    try:
        node = yaml.compose(m.group(1), Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 2 if mark else 1
        started = exc.context_mark
        where = ""
        if started is not None and started.line + 2 != line:
            where = f" ({exc.context} at line {started.line + 2})"
            line = started.line + 2  # point at where the broken construct starts, not where parsing gave up
        problems.error(rel, line, f"invalid YAML in front matter: {exc.problem}{where}")
        return None
    return Document(node, body, body_line, 1)


def compose(text: str) -> yaml.Node | None:
    """The YAML node tree of `text` (with marks for line numbers), parsed as `split` parses front matter;
    raises `yaml.MarkedYAMLError`."""
    return yaml.compose(text, Loader=_LOADER)


def value(node: yaml.Node) -> Any:
    """The plain Python value of a node (strings, numbers, dates, lists, mappings)."""
    return _LOADER("").construct_document(node)
