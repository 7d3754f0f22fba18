"""Job descriptions: Markdown rendered safely, because employers (strangers) write them.

Raw HTML is never passed through (markdown-it escapes it), links keep only http, https and mailto
targets, images are not rendered, and the result goes through nh3 (the Ammonia sanitiser) with an
allow-list of tags that also marks every link rel="nofollow ugc". Two independent layers: a gap in
one is caught by the other.
"""

from __future__ import annotations

import re
from html import unescape

import nh3
from markdown_it import MarkdownIt

SCHEMES = frozenset({"http", "https", "mailto"})
TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h3",
        "h4",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
LINK_REL = "nofollow ugc"
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)


def _link_ok(url: str) -> bool:
    m = _SCHEME.match(url.strip())
    return m is not None and m.group(1).lower() in SCHEMES


def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
    md.disable("image")  # a stranger's images (tracking pixels, offensive pictures) are not shown
    md.validateLink = _link_ok  # type: ignore[method-assign]  # a refused link is left as plain text
    # The page's h1 is the job title and its h2 "About the job": description headings are h3 and h4.
    md.add_render_rule("heading_open", _heading_open)
    md.add_render_rule("heading_close", _heading_close)
    return md


def _level(tag: str) -> str:
    return f"h{min(max(int(tag[1]) + 1, 3), 4)}"


def _heading_open(self: object, tokens: list, idx: int, options: object, env: object) -> str:  # type: ignore[type-arg]
    return f"<{_level(tokens[idx].tag)}>"


def _heading_close(self: object, tokens: list, idx: int, options: object, env: object) -> str:  # type: ignore[type-arg]
    return f"</{_level(tokens[idx].tag)}>\n"


_MD = _md()


def render(markdown: str) -> str:
    """Safe HTML for a description written in Markdown."""
    html = _MD.render(markdown)
    return str(
        nh3.clean(
            html,
            tags=set(TAGS),
            attributes={k: set(v) for k, v in ATTRIBUTES.items()},
            url_schemes=set(SCHEMES),
            link_rel=LINK_REL,
            strip_comments=True,
        )
    ).strip()


def plain(html: str) -> str:
    """The description as one line of text (feed summaries, search, meta descriptions)."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()
