"""Hand-written pages: `content/codes/<codeset>/<code>.md`, YAML front matter + Markdown sections.

Each `## Heading` starts a section (id = slug of the heading). Text before the first heading
becomes a public "Summary" section. Problems are collected with file:line positions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from . import frontmatter
from .errors import Problems
from .model import CODESET_NAMES, CPT, HCPCS, Section

FRONT_KEYS = ("title", "summary", "billable", "facts", "sections", "parent", "order")

CODE_PATTERNS: dict[str, re.Pattern[str]] = {
    CPT: re.compile(r"^\d{4}[0-9FTU]$"),
    HCPCS: re.compile(r"^(?:[A-V]\d{4}|[A-Z0-9]{2})$"),
    "icd-10-cm": re.compile(r"^[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?$"),
    "icd-10-pcs": re.compile(r"^[0-9A-HJ-NP-Z]{7}$"),
}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


@dataclass
class HandPage:
    """What one hand-written page contributes to its code's page."""

    codeset: str
    key: str
    path: str  # relative to the project root
    title: str | None = None
    summary: str | None = None
    billable: bool | None = None
    parent: str | None = None
    order: int | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def read_pages(content_dir: Path, root: Path, problems: Problems) -> list[HandPage]:
    """Reads every `content/codes/<codeset>/*.md`, in a stable order."""
    pages: list[HandPage] = []
    codes_dir = content_dir / "codes"
    if not codes_dir.is_dir():
        return pages
    for path in sorted(codes_dir.glob("*/*.md")):
        page = read_page(path, root, problems)
        if page is not None:
            pages.append(page)
    return pages


def read_page(path: Path, root: Path, problems: Problems) -> HandPage | None:
    rel = str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    codeset = path.parent.name
    key = path.stem
    if codeset not in CODESET_NAMES:
        problems.error(rel, 0, f"unknown code set folder '{codeset}'; use one of {', '.join(CODESET_NAMES)}")
        return None
    if not CODE_PATTERNS[codeset].match(key):
        problems.error(
            rel, 0,
            f"'{key}' is not a valid {CODESET_NAMES[codeset]} code; "
            "name the file after the code as officially printed",
        )
        return None
    text = frontmatter.read_text(path, rel, problems)
    if text is None:
        return None
    doc = frontmatter.split(text, rel, problems)
    if doc is None:
        return None
    page = HandPage(codeset=codeset, key=key, path=rel)
    overrides: dict[str, tuple[int, bool]] = {}
    if doc.front is not None and not _read_front(doc.front, page, overrides, rel, problems):
        return None
    _read_body(doc.body, doc.body_line, page, overrides, rel, problems)
    return page


def _read_front(
    node: yaml.Node, page: HandPage, overrides: dict[str, tuple[int, bool]], rel: str, problems: Problems
) -> bool:
    if not isinstance(node, yaml.MappingNode):
        problems.error(rel, node.start_mark.line + 2, "front matter must be a mapping (key: value lines)")
        return False
    ok = True
    for knode, vnode in node.value:
        key = knode.value
        line = knode.start_mark.line + 2
        value: Any = yaml.safe_load(yaml.serialize(vnode))
        if key in ("title", "summary", "parent"):
            if not isinstance(value, str) or not value.strip():
                problems.error(rel, line, f"'{key}' must be a non-empty string")
                ok = False
            else:
                setattr(page, key, " ".join(value.split()))
        elif key == "billable":
            if not isinstance(value, bool):
                problems.error(rel, line, "'billable' must be true or false")
                ok = False
            else:
                page.billable = value
        elif key == "order":
            if not isinstance(value, int) or isinstance(value, bool):
                problems.error(rel, line, "'order' must be a whole number")
                ok = False
            else:
                page.order = value
        elif key == "facts":
            if not isinstance(value, dict) or not all(
                isinstance(v, (str, int, float)) for v in value.values()
            ):
                problems.error(
                    rel, line, "'facts' must map a label to a short text, e.g. 'Global period: 90 days'"
                )
                ok = False
            else:
                page.facts = [(str(k), str(v)) for k, v in value.items()]
        elif key == "sections":
            if not isinstance(vnode, yaml.MappingNode):
                problems.error(
                    rel,
                    line,
                    "'sections' must map section ids to settings, e.g. 'coding-tips: {protected: true}'",
                )
                ok = False
                continue
            for sk, sv in vnode.value:
                sline = sk.start_mark.line + 2
                setting = yaml.safe_load(yaml.serialize(sv))
                if not isinstance(setting, dict) or set(setting) - {"protected"} or not isinstance(
                    setting.get("protected"), bool
                ):
                    problems.error(
                        rel,
                        sline,
                        f"section '{sk.value}' settings must be {{protected: true}} or {{protected: false}}",
                    )
                    ok = False
                    continue
                overrides[str(sk.value)] = (sline, setting["protected"])
        else:
            problems.warn(
                rel, line, f"unknown front matter key '{key}' is ignored (known: {', '.join(FRONT_KEYS)})"
            )
    return ok


def _read_body(
    body: str, first_line: int, page: HandPage, overrides: dict[str, tuple[int, bool]], rel: str,
    problems: Problems,
) -> None:
    tokens = _md.parse(body)
    heads: list[tuple[int, int, str]] = []  # (token index, source line, title)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open":
            line = first_line + (tok.map[0] if tok.map else 0)
            title = tokens[i + 1].content.strip()
            if tok.tag == "h1":
                problems.error(
                    rel, line, "'# ' headings are not allowed: the page title comes from the code; use '## '"
                )
            elif tok.tag == "h2":
                heads.append((i, line, title))
    bounds = [h[0] for h in heads] + [len(tokens)]
    renderer = _md.renderer
    options = _md.options
    if (heads and heads[0][0] > 0) or (not heads and tokens):
        html = renderer.render(tokens[: bounds[0]], options, {}).strip()
        if html:
            page.sections.append(
                Section("summary", "summary", "Summary", html, _plain(html), protected=False)
            )
    seen: dict[str, int] = {}
    for n, (index, line, title) in enumerate(heads):
        if not title:
            problems.error(rel, line, "empty '## ' heading; give the section a title")
            continue
        sid = slugify(title)
        if sid in seen:
            problems.error(
                rel,
                line,
                f"duplicate section '{title}' (first at line {seen[sid]}); merge them or rename one",
            )
            continue
        seen[sid] = line
        html = renderer.render(tokens[index + 3 : bounds[n + 1]], options, {}).strip()
        if not html:
            problems.error(rel, line, f"section '{title}' is empty; write its text or remove the heading")
            continue
        override = overrides.get(sid)
        page.sections.append(
            Section(sid, "handwritten", title, html, _plain(html),
                    protected=None if override is None else override[1])
        )
    for sid, (line, _) in overrides.items():
        if sid not in seen:
            problems.error(
                rel, line,
                f"front matter 'sections' names '{sid}' but the page has no '## ' heading with that id; "
                f"headings here: {', '.join(seen) or 'none'}",
            )
