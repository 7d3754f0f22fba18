"""Index pages stage: the ICD-10-CM Alphabetic Index, External Cause Index, Neoplasm Table and Table of
Drugs and Chemicals, and the ICD-10-PCS Index, as public pages.

Terms are drawn as in the printed book: nonessential modifiers in parentheses, codes linked to their
code pages (an incomplete code, "C79.8-", links to its category and says so), manifestation codes in
brackets, `see`/`see also` linked to the term they name. Cross-references that lead nowhere are
counted for the build's report.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from markupsafe import Markup

from . import books as b
from .fragments import escape
from .index_layout import BASES, Layout, Page, letter_key, letter_slug
from .link import CodeSetModel
from .model import CODESET_NAMES, ICD10CM, ICD10PCS
from .progress import say
from .reference import References, references, release_note
from .render import Ctx
from .theme import SiteFile, Theme
from .xrefs import code_key

NO_CODE = "\u2014"
INCOMPLETE = "inc-note"  # id of the legend an incomplete code's link points at (aria-describedby)


@dataclass
class Links:
    """Turns codes and cross-references of one book into links, counting the ones that lead nowhere."""

    refs: References
    models: dict[str, CodeSetModel]
    book: b.IndexBook
    unresolved: list[tuple[int, str]] = field(default_factory=list)
    # (printed code, class) -> its link: a code is printed under many terms of a book.
    _codes: dict[tuple[str, str], str] = field(default_factory=dict)
    # A cross-reference's text -> (whether it names a target, the target's URL): many terms say "see
    # Disease, by site".
    _refs: dict[str, tuple[bool, str | None]] = field(default_factory=dict)

    @property
    def codeset(self) -> str:
        return ICD10PCS if self.book.kind == b.PCS_INDEX else ICD10CM

    def code(self, printed: str, cls: str = "c") -> str:
        hit = self._codes.get((printed, cls))
        if hit is None:
            hit = self._codes[(printed, cls)] = self._code(printed, cls)
        return hit

    def _code(self, printed: str, cls: str) -> str:
        model = self.models.get(self.codeset)
        e = escape(printed)
        if model is None:
            return f'<span class="{cls}">{e}</span>'
        key = code_key(printed) if self.codeset == ICD10CM else printed
        i = model.index.get(key)
        if i is None and self.codeset == ICD10PCS and len(key) > 3:
            i = model.index.get(key[:3])  # a partial PCS code ("0DTJ") is a row of its table
            if i is not None:
                return f'<a class="{cls}" href="/{ICD10PCS}/{key[:3]}/#row-{escape(key[3:4])}">{e}</a>'
        if i is None:
            name = CODESET_NAMES[self.codeset]
            return f'<span class="{cls} nf" title="not in the {name} code list">{e}</span>'
        href = f"/{self.codeset}/{escape(model.records[i].key)}/"
        if printed.endswith("-"):
            return f'<a class="{cls} inc" href="{href}" aria-describedby="{INCOMPLETE}">{e}</a>'
        return f'<a class="{cls}" href="{href}">{e}</a>'

    def ref(self, text: str, line: int, *, coded: bool = False) -> str:
        """A cross-reference, linked to its target; `coded`: the codes it leads to are printed with it
        (ICD-10-PCS "see Resection, Appendix 0DTJ"), so an unmatched name is not a dead end."""
        known = self._refs.get(text)
        if known is None:
            target = self.refs.resolve(self.book.kind, text)
            url = self.refs.target_url(target) if target is not None and target.complete else None
            known = self._refs[text] = (target is not None, url)
        e = escape(text)
        found, url = known
        if not found:
            return e
        if url is None:
            if not coded:
                self.unresolved.append((line, text))
            return e
        return f'<a href="{escape(url)}">{e}</a>'

    def line(self, term: b.IndexTerm) -> str:
        """One term's own line: title, modifiers, codes and references."""
        parts = [f'<span class="t">{escape(term.title)}</span>' if term.title else ""]
        if term.nemod:
            parts.append(f'<span class="nm">{escape(term.nemod)}</span>')
        if term.tail:
            parts.append(escape(term.tail))
        for c in term.codes:
            parts.append(self.code(c))
        if term.manif:
            if self.book.kind in b.CM_BOOKS and self.book.kind != b.CM_NEOPLASM:
                parts.append(f"[{self.code(term.manif, 'c mf')}]")
            else:
                parts.append(f"[{escape(term.manif)}]")
        if term.subcat:
            parts.append(f"<i>see subcategory</i> {self.code(term.subcat)}")
        if term.seecat:
            parts.append(f"<i>see category</i> {self.code(term.seecat)}")
        if term.see:
            parts.append(f"\u2014 <i>see</i> {self.ref(term.see, term.line, coded=bool(term.see_codes))}")
        if term.use:
            parts.append(f"\u2014 <i>use</i> {escape(term.use)}")
        for c in term.see_codes:
            parts.append(self.code(c))
        if term.see_also:
            parts.append(f"\u2014 <i>see also</i> {self.ref(term.see_also, term.line)}")
        if term.warning:
            parts.append(f'<span class="warn">{escape(term.warning)}</span>')
        return " ".join(p for p in parts if p)


def _subterms(term: b.IndexTerm) -> int:
    """How many terms are below `term` (what `walk` would yield after it, without its paths)."""
    n, todo = 0, list(term.children)
    while todo:
        n += 1
        todo.extend(todo.pop().children)
    return n


def _tree(links: Links, lay: Layout, page: Page, terms: list[b.IndexTerm], out: list[str]) -> None:
    out.append('<ul class="idx">')
    for t in terms:
        anchor = lay.anchors.get(t, "")
        out.append(f'<li id="{anchor}">' if anchor else "<li>")
        out.append(links.line(t))
        moved = page.moved.get(t)
        if moved is not None:
            n = _subterms(t)
            out.append(f' <a class="more" href="{moved}">{n} subterms \u2192</a>')
        elif t.children:
            _tree(links, lay, page, t.children, out)
        out.append("</li>")
    out.append("</ul>")


@dataclass
class Writer:
    """Renders the pages of the books with the theme's `index_page.html`."""

    theme: Theme
    refs: References
    models: dict[str, CodeSetModel]
    tabular: dict[str, str]  # code set -> its release line
    unresolved: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def render(
        self, url: str, title: str, crumbs: list[tuple[str, str]], body: str, *, book: b.IndexBook | None,
        table: bool = False, description: str = "",
    ) -> SiteFile:
        cs = ICD10PCS if book is not None and book.kind == b.PCS_INDEX else ICD10CM
        source = release_note(book.release, self.tabular.get(cs, ""), cs) if book is not None else ""
        ip = Ctx({  # a Ctx: the template reads ip.x, which on a plain dict costs a caught AttributeError
            "title": title, "crumbs": crumbs, "body": Markup(body), "table": table,
            "description": description or title, "source": source,
        })
        return self.theme.page("index_page.html", url, title, ip=ip)

    def index_book(self, book: b.IndexBook) -> Iterator[tuple[str, bytes]]:
        lay = self.refs.layout(book)
        links = Links(self.refs, self.models, book)
        name = b.BOOK_NAMES[book.kind]
        home = lay.base
        cs = ICD10PCS if book.kind == b.PCS_INDEX else ICD10CM
        top = [(f"/{cs}/", CODESET_NAMES[cs]), (home, name)]
        letters = [(letter, letter_slug(letter.title)) for letter in book.letters]
        nav = (
            '<nav class="letters" aria-label="Letters"><ul>'
            + "".join(f'<li><a href="{home}{s}/">{escape(letter.title)}</a></li>' for letter, s in letters)
            + "</ul></nav>"
        )
        yield self.render(
            home,
            f"{CODESET_NAMES[cs]} {name}",
            top[:1],
            nav,
            book=book,
            description=f"The {CODESET_NAMES[cs]} {name}, letter by letter.",
        )
        for letter, s in letters:
            items = "".join(
                f'<li><a href="{home}{lay.slugs[m]}/">{escape(m.label or m.printed)}</a></li>'
                for m in letter.terms
            )
            body = nav + f'<ul class="terms">{items}</ul>'
            yield self.render(f"{home}{s}/", f"{name}: {letter.title}", top, body, book=book)
        for first, group in lay.shared.items():
            items = "".join(
                f'<li><a href="{home}{lay.slugs[m]}/">{escape(m.label or m.printed)}</a></li>'
                for m in group
            )
            yield self.render(
                f"{home}{first}/",
                f"{name}: {group[0].label.split(', ')[0]}",
                top,
                f'<p>Main terms that start with this word:</p><ul class="terms">{items}</ul>',
                book=book,
            )
        for page in lay.pages:
            out: list[str] = [
                f'<p class="legend" id="{INCOMPLETE}">A code ending in \u201c-\u201d is '
                "incomplete: "
                "see the Tabular List for the full code.</p>"
            ]
            main = page.main
            if not page.parents:
                out.append(f'<p class="main-line">{links.line(main)}</p>')
            if page.parts:
                out.append(
                    '<ul class="parts">'
                    + "".join(f'<li><a href="{u}">{escape(label)}</a></li>' for label, u in page.parts)
                    + "</ul>"
                )
            else:
                _tree(links, lay, page, page.terms, out)
            crumbs = [*top]
            main_url = lay.page_of[main]
            if page.url != main_url:
                crumbs.append((main_url, main.label or main.printed))
            yield self.render(page.url, f"{page.title} \u2014 {name}", crumbs, "".join(out), book=book)
        self.unresolved[book.kind] = links.unresolved

    def table(self, book: b.IndexBook) -> Iterator[tuple[str, bytes]]:
        """A table book: one page per letter of its rows, a real table with the official column heads."""
        links = Links(self.refs, self.models, book)
        name = b.BOOK_NAMES[book.kind]
        home = BASES[book.kind]
        top = [(f"/{ICD10CM}/", CODESET_NAMES[ICD10CM]), (home, name)]
        groups: dict[str, list[tuple[b.IndexTerm, int, str]]] = {}
        lead: list[tuple[b.IndexTerm, int, str]] = []
        for main in book.main_terms():
            walked = list(main.walk())
            rows = [(t, len(p), self.refs.row_anchor(book, p, t)) for p, t in walked]
            if book.kind == b.CM_NEOPLASM:
                lead.append(rows[0])
                for (path, _), r in zip(walked[1:], rows[1:], strict=True):
                    # Grouped by the main term's child the row is under (path[1]; itself at depth 1).
                    key = letter_key((r[0] if r[1] == 1 else path[1]).label)
                    groups.setdefault(key, []).append(r)
            else:
                groups.setdefault(letter_key(main.label), []).extend(rows)
        letters = sorted(groups)
        nav = (
            '<nav class="letters" aria-label="Letters"><ul>'
            + "".join(f'<li><a href="{home}{letter_slug(k)}/">{escape(k)}</a></li>' for k in letters)
            + "</ul></nav>"
        )
        intro = nav + (self._rows(links, book, lead, 0) if lead else "")
        yield self.render(
            home,
            f"ICD-10-CM {name}",
            top[:1],
            intro,
            book=book,
            table=bool(lead),
            description=f"The ICD-10-CM {name}, with its official columns.",
        )
        for k in letters:
            body = nav + self._rows(links, book, groups[k], 1 if book.kind == b.CM_NEOPLASM else 0)
            yield self.render(f"{home}{letter_slug(k)}/", f"{name}: {k}", top, body, book=book, table=True)
        self.unresolved[book.kind] = links.unresolved

    @staticmethod
    def _rows(links: Links, book: b.IndexBook, rows: list[tuple[b.IndexTerm, int, str]], base: int) -> str:
        heads = "".join(f'<th scope="col">{escape(h)}</th>' for h in book.heads)
        out = [
            f'<p class="legend" id="{INCOMPLETE}">A code ending in \u201c-\u201d is incomplete: '
            "see the Tabular List "
            "for the full code. \u201c\u2014\u201d: no code.</p>",
            '<p class="filter"><label for="table-filter">Filter rows</label> '
            '<input id="table-filter" type="search" autocomplete="off" data-filter="#book-table"></p>',
            '<div class="table-wrap"><table id="book-table" class="book-table">',
            f"<thead><tr>{heads}</tr></thead><tbody>",
        ]
        for term, depth, anchor in rows:
            title = links.line(
                b.IndexTerm(
                    term.title,
                    term.level,
                    term.line,
                    term.nemod,
                    term.tail,
                    term.see,
                    term.see_also,
                    manif=term.manif,
                )
            )
            cells = (
                "".join(f"<td>{links.code(c) if c else NO_CODE}</td>" for c in term.cells)
                if term.cells
                else f'<td colspan="{len(book.heads) - 1}"></td>'
            )
            pad = max(0, depth - base)
            out.append(f'<tr id="{anchor}"><th scope="row" class="lv{min(pad, 6)}">{title}</th>{cells}</tr>')
        out.append("</tbody></table></div>")
        return "".join(out)

    def landing(self) -> tuple[str, bytes]:
        """`/icd-10-cm/index/` lists the books; it is the disease index's own home when that is present."""
        items = [
            (BASES[k], b.BOOK_NAMES[k])
            for k in (b.CM_INDEX, b.CM_EINDEX, b.CM_NEOPLASM, b.CM_DRUG)
            if k in self.refs.books.cm
        ]
        body = (
            '<ul class="terms">'
            + "".join(f'<li><a href="{u}">{escape(n)}</a></li>' for u, n in items)
            + "</ul>"
        )
        return self.render(
            f"/{ICD10CM}/index-and-tables/",
            "ICD-10-CM Index and Tables",
            [(f"/{ICD10CM}/", CODESET_NAMES[ICD10CM])],
            body,
            book=None,
        )


def index_pages(
    theme: Theme, refs: References, models: dict[str, CodeSetModel],
) -> tuple[list[SiteFile], dict[str, list[tuple[int, str]]]]:
    """Every page of the books a build has, and per book the cross-references that lead nowhere
    (line, text)."""
    tabular = {
        cs: next((r.source for r in m.records if r.is_code and r.source), "") for cs, m in models.items()
    }
    w = Writer(theme, refs, models, tabular)
    out: list[SiteFile] = []
    books = refs.books
    for kind in (b.CM_INDEX, b.CM_EINDEX):
        if kind in books.cm:
            out.extend(w.index_book(books.cm[kind]))
    for kind in (b.CM_NEOPLASM, b.CM_DRUG):
        if kind in books.cm:
            out.extend(w.table(books.cm[kind]))
    if books.cm:
        out.append(w.landing())
    if books.pcs_index is not None:
        out.extend(w.index_book(books.pcs_index))
    return out, w.unresolved


def book_pages(theme: Theme, models: dict[str, CodeSetModel]) -> list[SiteFile]:
    """The site stage of the books' pages. Cross-references that lead nowhere are reported, one line per
    book, their list written to `.coderef/xrefs-<kind>.txt`."""
    cfg = theme.cfg
    refs = references(cfg)
    if not refs.books:
        return []
    pages, unresolved = index_pages(theme, refs, models)
    for kind, found in unresolved.items():
        report = cfg.state_dir / f"xrefs-{kind}.txt"
        if not found:
            report.unlink(missing_ok=True)
            continue
        book = refs.books.pcs_index if kind == b.PCS_INDEX else refs.books.cm[kind]
        assert book is not None
        report.write_text("".join(f"{book.path}:{line}: {text}\n" for line, text in found), encoding="utf-8")
        say(f"books      {kind}: {len(found)} cross-references lead to no term of the index; see {report}")
    return pages
