"""A small XML tree that remembers the line of every element (ElementTree keeps none).

The reference-book importers report problems as `path:line`, including problems found after
parsing (an unknown element, a term without a title, a cross-reference that leads nowhere), so
each element carries its line. Built with expat directly; mixed content is kept as `text` (before
the first child) and `tail` (after an element, before its next sibling), as in ElementTree.
"""

from __future__ import annotations

import xml.parsers.expat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BuildError
from .xmlpos import open_maybe_gzip

_ERR = xml.parsers.expat.errors
# Errors an XML file cut short ends in: no element closed, a tag or a character cut in half.
_CUT = frozenset(
    _ERR.codes[m]
    for m in (_ERR.XML_ERROR_NO_ELEMENTS, _ERR.XML_ERROR_UNCLOSED_TOKEN, _ERR.XML_ERROR_PARTIAL_CHAR)
)


@dataclass(slots=True, eq=False)
class Node:
    tag: str
    attrs: dict[str, str]
    line: int
    text: str = ""
    tail: str = ""
    children: list[Node] = field(default_factory=list)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.children)

    def find(self, tag: str) -> Node | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Node]:
        return [c for c in self.children if c.tag == tag]

    def itertext(self) -> Iterator[str]:
        yield self.text
        for c in self.children:
            yield from c.itertext()
            yield c.tail

    def all_text(self) -> str:
        """Every text inside, whitespace collapsed."""
        return " ".join("".join(self.itertext()).split())


def parse(path: Path, what: str, hint: str) -> Node:
    """The document element of `path` (gzip'd or not). `what` names the expected file in messages
    ("ICD-10-CM index XML"), `hint` says which file to pass instead."""
    parser = xml.parsers.expat.ParserCreate()
    parser.buffer_text = True
    root = Node("", {}, 0)
    stack: list[Node] = [root]

    def start(tag: str, attrs: dict[str, str]) -> None:
        node = Node(tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(tag: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        top = stack[-1]
        if top.children:
            last = top.children[-1]
            last.tail += data
        else:
            top.text += data

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        with open_maybe_gzip(path) as f:
            parser.ParseFile(f)
    except xml.parsers.expat.ExpatError as e:
        why = xml.parsers.expat.ErrorString(e.code)
        cut = (
            " (the file ends before its elements are closed: truncated?)"
            if e.code in _CUT and len(stack) > 1
            else ""
        )
        raise BuildError(
            f"{path}:{e.lineno}: not a readable {what} ({why} at column {e.offset + 1}){cut}; {hint}"
        ) from None
    except (OSError, EOFError, zlib.error) as e:  # unreadable, or a bad or truncated .gz copy
        raise BuildError(
            f"{path}: cannot read the {what}: {getattr(e, 'strerror', None) or e}; {hint}"
        ) from None
    finally:
        # The handlers refer to the parser (and to the tree, through `stack`): a cycle that only
        # the cyclic GC frees, and the build runs with it off, so the whole tree of a book file
        # (2M objects, ~150 MB for the ICD-10-CM books) would stay until the build ends.
        parser.StartElementHandler = parser.EndElementHandler = parser.CharacterDataHandler = None
    if not root.children:
        raise BuildError(f"{path}:1: empty file; {hint}")
    return root.children[0]


def clean(text: str | None) -> str:
    """Text with runs of whitespace collapsed."""
    return " ".join(text.split()) if text else ""


def document(path: Path, root_tag: str, what: str, hint: str) -> Node:
    """The document element of `path`, which must be `<root_tag>`."""
    root = parse(path, what, hint)
    if root.tag != root_tag:
        raise BuildError(
            f"{path}:{root.line}: expected the root element <{root_tag}>, found <{root.tag}>; {hint}"
        )
    return root


def check_level(path: Path, node: Node, level: int, deepest: int) -> None:
    """A `<term level="N">` must sit one level below its parent, and no deeper than `deepest`."""
    if level:
        raw = node.attrs.get("level", "")
        if not raw.isdigit() or int(raw) != level:
            raise BuildError(
                f'{path}:{node.line}: <term level="{raw}"> under a level-{level - 1} term; '
                f'expected level="{level}"'
            )
    if level > deepest:
        raise BuildError(
            f"{path}:{node.line}: subterms nest deeper than the {deepest} levels the schema allows"
        )
