"""Pre-rendered HTML fragments for the hot loops of a code page.

A Jinja2 expression costs about a microsecond; a deep ICD-10-CM page has some 200 of them in its
breadcrumbs, hierarchy tree, child lists, protected-section placeholders and contents list, and
the site has 178k pages. These fragments are built here with plain string joins (5-10x faster),
and the ancestor parts are cached per parent, since every sibling shares them. The markup matches
`themes/default/templates/_fragments.md`, which documents it for theme authors; the page layout
itself stays in `page.html`.
"""
from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup
from markupsafe import escape as markup_escape

# markupsafe's C escaper without the Markup wrapper: a third of the cost per call. A private
# function of markupsafe 3.0 (pinned in pyproject.toml): an upgrade that drops it fails here, at
# import, instead of quietly rendering 178k pages at a third more cost. Pure-Python markupsafe
# (no C extension) is not a supported configuration.
from markupsafe._speedups import _escape_inner as _fast_escape

from . import urls
from .link import CodeSetModel, ancestors

_WIDE = re.compile("[^\x00-\xff]")


def _entity(m: re.Match[str]) -> str:
    return f"&#{ord(m.group())};"


def narrow(html: str) -> str:
    """Writes characters beyond Latin-1 ("—", "’") as numeric character references.

    One such character makes CPython store the whole page string at 2 bytes a character, which
    doubles the cost of joining, encoding and hashing 178k pages; entities keep it at 1.
    """
    return html if html.isascii() else _WIDE.sub(_entity, html)


def escape(text: str) -> str:
    """HTML-escapes text exactly like markupsafe (quotes included), narrowed (see `narrow`)."""
    out = _fast_escape(text) if type(text) is str else str(markup_escape(text))
    return out if out.isascii() else _WIDE.sub(_entity, out)


# Drawn by the stylesheet (a CSS mask of currentColor): 50 bytes a use instead of 300 of inline
# SVG, and a code page shows it twice per protected section (heading and contents list).
LOCK_ICON = '<span class="icon icon-lock" aria-hidden="true"></span>'


class AncestorCache:
    """Breadcrumb items and hierarchy-tree items of a node's ancestors, built once per parent."""

    def __init__(self, model: CodeSetModel) -> None:
        self.model = model
        self._cache: dict[int, tuple[str, str]] = {}
        # Other fragments keyed by the (shared) Section objects they are made of; see render.memo.
        self.fragments: dict[tuple[Any, ...], tuple[tuple[object, ...], Markup]] = {}

    def get(self, parent: int | None) -> tuple[str, str]:
        if parent is None:
            return "", ""
        hit = self._cache.get(parent)
        if hit is not None:
            return hit
        recs = self.model.records
        cs = self.model.codeset
        crumbs = []
        tree = []
        for a in [*ancestors(self.model, parent), parent]:
            r = recs[a]
            url = urls.page_path(cs, r.key)
            label = escape(r.display)
            title = escape(r.title)
            t_attr = f' title="{title}"' if r.title else ""
            crumbs.append(f'    <li><a href="{url}"{t_attr}>{label}</a></li>\n')
            tree.append(
                f'      <li><a href="{url}"><span class="cl-code">{label}</span> '
                f'<span class="cl-title">{title}</span></a></li>\n'
            )
        hit = ("".join(crumbs), "".join(tree))
        self._cache[parent] = hit
        return hit


def child_items(model: CodeSetModel, i: int, *, with_billable: bool) -> str:
    """`<li>` items of a node's children (the browse list, or the tree on a code page)."""
    recs = model.records
    cs = model.codeset
    out = []
    for c in model.children.get(i, ()):
        r = recs[c]
        link = (
            f'<a href="{urls.page_path(cs, r.key)}"><span class="cl-code">{escape(r.display)}</span> '
            f'<span class="cl-title">{escape(r.title)}</span></a>'
        )
        if with_billable and r.billable is True:
            link += (' <span class="dot-billable" title="Billable">'
                     '<span class="visually-hidden">(billable)</span></span>')
        out.append(f"      <li>{link}</li>\n" if with_billable else f"          <li>{link}</li>\n")
    return "".join(out)


def premium_blocks(protected: list[dict[str, Any]], gate_page: str, page_url: str, wall_text: str) -> Markup:
    """The placeholder of each protected section: title, lock and the static wall, never the text."""
    if not protected:
        return Markup("")
    register, login = urls.register_path(page_url), urls.login_path(page_url)
    out = []
    for s in protected:
        sid = escape(s["id"])
        out.append(
            f'  <section class="premium" id="s-{sid}" data-section="{sid}" aria-labelledby="h-{sid}">\n'
            f'    <h2 id="h-{sid}">{escape(s["title"])}{LOCK_ICON}</h2>\n'
            '    <div class="premium-body">\n'
            f"<!--premium:{sid}-->\n"
            '<div class="wall" data-wall="static">\n'
            '  <p class="wall-title">Register to view content</p>\n'
            f'  <p class="wall-text">{wall_text}</p>\n'
            f'  <p class="wall-actions"><a class="btn" href="{gate_page}#s-{sid}">View this section</a> '
            f'<a class="btn btn-secondary" href="{register}">Create free account</a> '
            f'<a class="wall-login" href="{login}">Log in</a></p>\n'
            "</div>\n"
            f"<!--/premium:{sid}-->\n"
            "    </div>\n"
            "  </section>\n"
        )
    return Markup("".join(out))


def toc_items(public: list[dict[str, Any]], protected: list[dict[str, Any]]) -> Markup:
    parts = [f'<li><a href="#s-{escape(s["id"])}">{escape(s["title"])}</a></li>' for s in public]
    parts += [
        f'<li><a href="#s-{escape(s["id"])}">{escape(s["title"])}</a> {LOCK_ICON}</li>' for s in protected
    ]
    return Markup("".join(parts))


def pager(prev: dict[str, Any] | None, nxt: dict[str, Any] | None) -> Markup:
    if prev is None and nxt is None:
        return Markup("")
    out = ['  <nav class="pager" aria-label="Previous and next code">\n    ']
    if prev is not None:
        out.append(
            f'<a class="pager-prev" rel="prev" href="{prev["url"]}">'
            '<span class="pager-dir">Previous code</span> '
            f'<span class="pager-code">{escape(prev["display"])}</span> '
            f'<span class="pager-title">{escape(prev["title"])}</span></a>'
        )
    else:
        out.append("<span></span>")
    out.append("\n    ")
    if nxt is not None:
        out.append(
            f'<a class="pager-next" rel="next" href="{nxt["url"]}"><span class="pager-dir">Next code</span> '
            f'<span class="pager-code">{escape(nxt["display"])}</span> '
            f'<span class="pager-title">{escape(nxt["title"])}</span></a>'
        )
    out.append("\n  </nav>\n")
    return Markup("".join(out))


def record_head(
    *, codeset_url: str, codeset_name: str, is_cpt: bool, is_code: bool, kind: str, billable: bool | None,
    source: str, descriptor_missing: bool, display: str, title: str, short_title: str, licence_note: str,
    change: str = "", change_label: str = "",
) -> Markup:
    """Badges, release line and the H1 of a record page."""
    out = [
        '  <header class="record-head">\n    <p class="record-meta">\n',
        f'      <a class="badge badge-set" href="{codeset_url}">'
        f'{escape(codeset_name)}{"®" if is_cpt else ""}</a>\n',
    ]
    if not is_code:
        out.append(f'<span class="badge badge-kind">{escape(kind.replace("-", " ").capitalize())}</span>')
    out.append("      ")
    if billable is True:
        out.append('<span class="badge badge-ok">Billable</span>')
    elif billable is False:
        out.append(
            f'<span class="badge badge-warn">{"Not billable" if is_code else "Header"} '
            '&#8212; use a more specific code</span>'
        )
    if change:
        out.append(f' <span class="badge badge-change badge-{escape(change)}">{escape(change_label)}</span>')
    out.append("\n")
    if source:
        out.append(f'<span class="release">{escape(source)}</span>')
    out.append("    </p>\n")
    if descriptor_missing:
        out.append(f'    <h1 id="page-title"><span class="h1-code">CPT® {escape(display)}</span></h1>\n')
        if short_title:
            out.append(f'<p class="lede">{escape(short_title)}</p>')
        out.append(
            '    <p class="licence-note"><strong>Official descriptor not shown.</strong> '
            f'{escape(licence_note)}</p>\n'
        )
    else:
        out.append(
            f'    <h1 id="page-title"><span class="h1-code">{escape(display)}</span> '
            f'<span class="h1-title">{escape(title)}</span></h1>\n'
        )
        if short_title and short_title != title:
            out.append(f'<p class="lede">{escape(short_title)}</p>')
    out.append("  </header>\n")
    return Markup("".join(out))


def facts(items: list[tuple[str, str]]) -> Markup:
    if not items:
        return Markup("")
    rows = "".join(
        f'    <div class="fact"><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>\n' for k, v in items
    )
    return Markup(f'  <dl class="facts">\n{rows}  </dl>\n')


def public_blocks(sections: list[dict[str, Any]]) -> Markup:
    """Public sections in full; their HTML is final (escaped by the importer or Markdown renderer)."""
    out = []
    for s in sections:
        sid = escape(s["id"])
        out.append(
            f'  <section class="block block-{escape(s["kind"])}" id="s-{sid}" aria-labelledby="h-{sid}">\n'
            f'    <h2 id="h-{sid}">{escape(s["title"])}</h2>\n'
            '    <div class="block-body">\n'
            f'{narrow(s["html"])}\n'
            "    </div>\n"
            "  </section>\n"
        )
    return Markup("".join(out))
