"""Pre-rendered HTML fragments for the hot loops of a code page.

A Jinja2 expression costs about a microsecond; a deep ICD-10-CM page has some 200 of them in its
breadcrumbs, hierarchy tree, child lists, protected-section placeholders and contents list, and
the site has 178k pages. These fragments are built here with plain string joins (5-10x faster),
and the ancestor parts are cached per parent, since every sibling shares them. The markup matches
`themes/default/templates/_fragments.md`, which documents it for theme authors; the page layout
itself stays in `page.html`.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
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
# Markup(s) of a str without Markup's Python-level __new__ (which looks for __html__ first): a
# page asks for several.
as_markup: Callable[[str], Markup] = functools.partial(str.__new__, Markup)


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
    """Fragments of one code set shared between neighbouring pages, built once per process and chunk.

    Breadcrumb and hierarchy-tree items of a node's ancestors (one entry per parent: every
    sibling shares them); each record's link parts (its page's URL, escaped code and title:
    a record is shown on its own page, its neighbours' pagers and its parent's child list);
    rendered fact rows (a few hundred distinct label/value pairs across 550k ICD-10-PCS facts);
    and the markup of each section (imported sections are objects shared by thousands of pages).
    """

    def __init__(self, model: CodeSetModel) -> None:
        self.model = model
        self._cache: dict[int, tuple[str, str]] = {}
        self._refs: dict[int, tuple[str, str, str]] = {}
        self.fact_rows: dict[tuple[str, str], str] = {}
        # Per section object, keyed by its id: (the section itself, which keeps the id from being
        # reused while the entry lives; its parts, see `render.page_context`).
        self.sections: dict[int, tuple[object, Any]] = {}
        self.heads: dict[tuple[Any, ...], str] = {}  # the badges and release line, per distinct values
        # The markup of sections without HTML (the premium placeholders, new objects on every page),
        # per (id, kind, title, protected): all that it depends on.
        self.empty_sections: dict[tuple[str, str, str, bool | None], Any] = {}

    def ref(self, i: int) -> tuple[str, str, str]:
        """Record `i`'s page URL, escaped display and escaped title."""
        hit = self._refs.get(i)
        if hit is None:
            r = self.model.records[i]
            hit = (urls.page_path(self.model.codeset, r.key), escape(r.display), escape(r.title))
            self._refs[i] = hit
        return hit

    def get(self, parent: int | None) -> tuple[str, str]:
        if parent is None:
            return "", ""
        hit = self._cache.get(parent)
        if hit is not None:
            return hit
        recs = self.model.records
        crumbs = []
        tree = []
        for a in [*ancestors(self.model, parent), parent]:
            url, label, title = self.ref(a)
            t_attr = f' title="{title}"' if recs[a].title else ""
            crumbs.append(f'    <li><a href="{url}"{t_attr}>{label}</a></li>\n')
            tree.append(
                f'      <li><a href="{url}"><span class="cl-code">{label}</span> '
                f'<span class="cl-title">{title}</span></a></li>\n'
            )
        hit = ("".join(crumbs), "".join(tree))
        self._cache[parent] = hit
        return hit


def child_items(cache: AncestorCache, i: int, *, with_billable: bool) -> str:
    """`<li>` items of a node's children (the browse list, or the tree on a code page)."""
    recs = cache.model.records
    out = []
    for c in cache.model.children.get(i, ()):
        url, label, title = cache.ref(c)
        link = (
            f'<a href="{url}"><span class="cl-code">{label}</span> '
            f'<span class="cl-title">{title}</span></a>'
        )
        if with_billable and recs[c].billable is True:
            link += (' <span class="dot-billable" title="Billable">'
                     '<span class="visually-hidden">(billable)</span></span>')
        out.append(f"      <li>{link}</li>\n" if with_billable else f"          <li>{link}</li>\n")
    return "".join(out)


def premium_block_parts(sid: str, title: str, wall_text: str) -> tuple[str, str, str, str]:
    """The placeholder of one protected section around its page's three links (the gate's page,
    register, log in): the block is `a + gate_page + b + register + c + login + d`."""
    sid = escape(sid)
    return (
        f'  <section class="premium" id="s-{sid}" data-section="{sid}" aria-labelledby="h-{sid}">\n'
        f'    <h2 id="h-{sid}">{escape(title)}{LOCK_ICON}</h2>\n'
        '    <div class="premium-body">\n'
        f"<!--premium:{sid}-->\n"
        '<div class="wall" data-wall="static">\n'
        '  <p class="wall-title">Register to view content</p>\n'
        f'  <p class="wall-text">{wall_text}</p>\n'
        '  <p class="wall-actions"><a class="btn" href="',
        f'#s-{sid}">View this section</a> <a class="btn btn-secondary" href="',
        '">Create free account</a> <a class="wall-login" href="',
        '">Log in</a></p>\n'
        "</div>\n"
        f"<!--/premium:{sid}-->\n"
        "    </div>\n"
        "  </section>\n",
    )


def premium_links(page_url: str) -> tuple[str, str]:
    """The register and log-in links of a page's walls (each comes back to the page)."""
    return urls.register_path(page_url), urls.login_path(page_url)


def premium_block(parts: tuple[str, str, str, str], gate_page: str, register: str, login: str) -> str:
    a, b, c, d = parts
    return f"{a}{gate_page}{b}{register}{c}{login}{d}"


def premium_blocks(protected: list[dict[str, Any]], gate_page: str, page_url: str, wall_text: str) -> Markup:
    """The placeholder of each protected section: title, lock and the static wall, never the text."""
    if not protected:
        return Markup("")
    register, login = premium_links(page_url)
    return Markup("".join(
        premium_block(premium_block_parts(s["id"], s["title"], wall_text), gate_page, register, login)
        for s in protected
    ))


def toc_item(sid: str, title: str, *, locked: bool) -> str:
    """One entry of the contents list (a protected section's shows the lock)."""
    if locked:
        return f'<li><a href="#s-{escape(sid)}">{escape(title)}</a> {LOCK_ICON}</li>'
    return f'<li><a href="#s-{escape(sid)}">{escape(title)}</a></li>'


def toc_items(public: list[dict[str, Any]], protected: list[dict[str, Any]]) -> Markup:
    parts = [toc_item(s["id"], s["title"], locked=False) for s in public]
    parts += [toc_item(s["id"], s["title"], locked=True) for s in protected]
    return Markup("".join(parts))


Link = tuple[str, str, str]  # a page's URL, escaped code and escaped title (`AncestorCache.ref`)


def pager(prev: Link | None, nxt: Link | None) -> Markup:
    if prev is None and nxt is None:
        return as_markup("")
    out = ['  <nav class="pager" aria-label="Previous and next code">\n    ']
    if prev is not None:
        out.append(
            f'<a class="pager-prev" rel="prev" href="{prev[0]}">'
            '<span class="pager-dir">Previous code</span> '
            f'<span class="pager-code">{prev[1]}</span> '
            f'<span class="pager-title">{prev[2]}</span></a>'
        )
    else:
        out.append("<span></span>")
    out.append("\n    ")
    if nxt is not None:
        out.append(
            f'<a class="pager-next" rel="next" href="{nxt[0]}"><span class="pager-dir">Next code</span> '
            f'<span class="pager-code">{nxt[1]}</span> '
            f'<span class="pager-title">{nxt[2]}</span></a>'
        )
    out.append("\n  </nav>\n")
    return as_markup("".join(out))


def record_meta(
    *, codeset_url: str, codeset_name: str, is_cpt: bool, is_code: bool, kind: str, billable: bool | None,
    source: str, change: str = "", change_label: str = "",
) -> str:
    """The start of a record page's head: badges and release line (shared by many pages)."""
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
    return "".join(out)


def record_title(
    *, descriptor_missing: bool, display_html: str, title_html: str, title: str, short_title: str,
    licence_note: str,
) -> str:
    """The rest of a record page's head: the H1 (and lede, licence note); `display_html` and
    `title_html` are the escaped display and title."""
    out = []
    if descriptor_missing:
        out.append(f'    <h1 id="page-title"><span class="h1-code">CPT® {display_html}</span></h1>\n')
        if short_title:
            out.append(f'<p class="lede">{escape(short_title)}</p>')
        out.append(
            '    <p class="licence-note"><strong>Official descriptor not shown.</strong> '
            f'{escape(licence_note)}</p>\n'
        )
    else:
        out.append(
            f'    <h1 id="page-title"><span class="h1-code">{display_html}</span> '
            f'<span class="h1-title">{title_html}</span></h1>\n'
        )
        if short_title and short_title != title:
            out.append(f'<p class="lede">{escape(short_title)}</p>')
    out.append("  </header>\n")
    return "".join(out)


def record_head(
    *, codeset_url: str, codeset_name: str, is_cpt: bool, is_code: bool, kind: str, billable: bool | None,
    source: str, descriptor_missing: bool, display: str, title: str, short_title: str, licence_note: str,
    change: str = "", change_label: str = "",
) -> Markup:
    """Badges, release line and the H1 of a record page."""
    return Markup(
        record_meta(
            codeset_url=codeset_url, codeset_name=codeset_name, is_cpt=is_cpt, is_code=is_code, kind=kind,
            billable=billable, source=source, change=change, change_label=change_label,
        )
        + record_title(
            descriptor_missing=descriptor_missing, display_html=escape(display), title_html=escape(title),
            title=title, short_title=short_title, licence_note=licence_note,
        )
    )


def fact_row(label: str, value: str) -> str:
    return f'    <div class="fact"><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>\n'


def facts(items: list[tuple[str, str]], rows: dict[tuple[str, str], str] | None = None) -> Markup:
    """The facts list; `rows` (label/value -> row) keeps rows for pages that repeat them."""
    if not items:
        return as_markup("")
    if rows is None:
        body = "".join(fact_row(k, v) for k, v in items)
    else:
        out = []
        for item in items:
            row = rows.get(item)
            if row is None:
                row = rows[item] = fact_row(*item)
            out.append(row)
        body = "".join(out)
    return as_markup(f'  <dl class="facts">\n{body}  </dl>\n')


def public_block(sid: str, kind: str, title: str, html: str) -> str:
    """A public section in full; its HTML is final (escaped by the importer or Markdown renderer)."""
    sid = escape(sid)
    return (
        f'  <section class="block block-{escape(kind)}" id="s-{sid}" aria-labelledby="h-{sid}">\n'
        f'    <h2 id="h-{sid}">{escape(title)}</h2>\n'
        '    <div class="block-body">\n'
        f'{narrow(html)}\n'
        "    </div>\n"
        "  </section>\n"
    )


def public_blocks(sections: list[dict[str, Any]]) -> Markup:
    """Public sections in full (see `public_block`)."""
    return Markup("".join(public_block(s["id"], s["kind"], s["title"], s["html"]) for s in sections))
