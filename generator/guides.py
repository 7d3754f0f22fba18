"""Guides: `content/guides/<slug>.md`, coding guidance written in the project's own words.

Each guide names the official sources it summarises (front matter `sources:`), is published as a
public page under `/guides/<slug>/`, and is split at its `## ` headings into passages that
CasePilot retrieves from (see `assistant_facts.py`). Problems are collected with file:line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from . import frontmatter, urls
from .content import slugify
from .errors import Problems

GUIDE_KEYS = ("title", "summary", "sources", "topics")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrievable part of a guide: the text before the first heading ("intro") or one `## ` section."""

    anchor: str  # "" for the intro, else the heading's slug (the page's fragment id)
    heading: str
    html: str
    text: str


@dataclass
class Guide:
    slug: str
    path: str  # relative to the project root
    title: str = ""
    summary: str = ""
    sources: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)

    @property
    def url(self) -> str:
        return urls.guide_path(self.slug)


def _plain(html: str) -> str:
    text = re.sub(r"<[^>]+>", " ", html)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    return re.sub(r"\s+", " ", text).strip()


def read_guides(content_dir: Path, root: Path, problems: Problems) -> list[Guide]:
    """Every `content/guides/*.md` in name order; a guide with errors is left out (and reported)."""
    folder = content_dir / "guides"
    guides: list[Guide] = []
    if not folder.is_dir():
        return guides
    for path in sorted(folder.glob("*.md")):
        guide = read_guide(path, root, problems)
        if guide is not None:
            guides.append(guide)
    return guides


def read_guide(path: Path, root: Path, problems: Problems) -> Guide | None:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if not _SLUG.match(path.stem):
        problems.error(
            rel, 0, f"guide file name '{path.name}' must be lower-case words joined by '-' (it is the URL)"
        )
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.error(rel, 0, f"not UTF-8 text ({exc.reason} at byte {exc.start}); save the file as UTF-8")
        return None
    m = re.match(r"---[ \t]*\r?\n(.*?)(?:^|\n)---[ \t]*(?:\r?\n|$)", text, re.DOTALL)
    if m is None:
        problems.error(
            rel, 1, "a guide starts with front matter between '---' lines (title, summary, sources)"
        )
        return None
    guide = Guide(slug=path.stem, path=rel)
    ok = _front(m.group(1), guide, rel, problems)
    body_line = text[: m.end()].count("\n") + 1
    ok = _body(text[m.end() :], body_line, guide, rel, problems) and ok
    return guide if ok else None


def _front(front: str, guide: Guide, rel: str, problems: Problems) -> bool:
    try:
        node = frontmatter.compose(front)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 2 if exc.problem_mark else 1
        problems.error(rel, line, f"invalid YAML in front matter: {exc.problem}")
        return False
    if not isinstance(node, yaml.MappingNode):
        problems.error(rel, 2, "front matter must be a mapping with title, summary and sources")
        return False
    ok = True
    for knode, vnode in node.value:
        key, line = knode.value, knode.start_mark.line + 2
        value: Any = frontmatter.value(vnode)
        if key in ("title", "summary"):
            if not isinstance(value, str) or not value.strip():
                problems.error(rel, line, f"'{key}' must be a non-empty string")
                ok = False
            else:
                setattr(guide, key, " ".join(value.split()))
        elif key in ("sources", "topics"):
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, str) and v.strip() for v in value)
            ):
                problems.error(
                    rel,
                    line,
                    (f"'{key}' must be a list of short texts, e.g. '- ICD-10-CM Official Guidelines for "
                     f"Coding and Reporting'"),
                )
                ok = False
            else:
                setattr(guide, key, [" ".join(v.split()) for v in value])
        else:
            problems.warn(
                rel, line, f"unknown front matter key '{key}' is ignored (known: {', '.join(GUIDE_KEYS)})"
            )
    for key in ("title", "summary", "sources"):
        if not getattr(guide, key):
            problems.error(
                rel,
                1,
                (f"a guide needs '{key}' in its front matter (every guide names the official sources it "
                 f"summarises)"),
            )
            ok = False
    return ok


def _body(body: str, first_line: int, guide: Guide, rel: str, problems: Problems) -> bool:
    tokens = _md.parse(body)
    heads: list[tuple[int, str]] = []
    ok = True
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            line = first_line + (tok.map[0] if tok.map else 0)
            if tok.tag != "h2":
                problems.error(
                    rel, line, "guides use '## ' headings only (the title comes from the front matter)"
                )
                ok = False
            heads.append((i, tokens[i + 1].content.strip()))
    bounds = [h[0] for h in heads] + [len(tokens)]
    render = _md.renderer.render
    intro = render(tokens[: bounds[0]], _md.options, {}).strip()
    if intro:
        guide.passages.append(Passage("", guide.title, intro, _plain(intro)))
    seen: set[str] = set()
    for n, (index, heading) in enumerate(heads):
        anchor = slugify(heading)
        if anchor in seen:
            problems.error(rel, first_line, f"duplicate heading '{heading}'")
            ok = False
            continue
        seen.add(anchor)
        html = render(tokens[index + 3 : bounds[n + 1]], _md.options, {}).strip()
        guide.passages.append(Passage(anchor, heading, html, _plain(html)))
    if not guide.passages:
        problems.error(rel, first_line, "the guide has no text below its front matter")
        ok = False
    return ok
