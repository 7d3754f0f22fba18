"""Where each index term is published: its page and its anchor, for the index pages and for the links
to them ("Index entries for this code", see-references).

A main term gets a page (`/icd-10-cm/index/<slug>/`); each subterm an anchor made of its path below
the main term (`#femur-femoral--neck`), stable from one release to the next while the wording stays.
A main term too large for one page (HTML_BUDGET) is split: its biggest subterms move to pages of their
own below it (the main page keeps their line, linking on), and when the lines alone are still too many,
they are cut into consecutive parts ("Disorder (of): acoustic – hemorrhagic").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .books import CM_DRUG, CM_EINDEX, CM_INDEX, CM_NEOPLASM, PCS_INDEX, IndexBook, IndexTerm
from .model import ICD10CM, ICD10PCS

BUDGET = 21_000  # bytes of term markup per page: with the site's chrome a page stays under 30 KB
PART_MIN = 12  # lines; a part of a split list holds at least this many

# URL base of each book (see generator/urls.py for the rest of the site).
BASES = {
    CM_INDEX: f"/{ICD10CM}/index/",
    CM_EINDEX: f"/{ICD10CM}/external-cause-index/",
    CM_NEOPLASM: f"/{ICD10CM}/neoplasm-table/",
    CM_DRUG: f"/{ICD10CM}/drug-table/",
    PCS_INDEX: f"/{ICD10PCS}/index/",
}

_NON = re.compile(r"[^a-z0-9]+")


SLUG_MAX = 60  # characters: a subterm that is a whole note must still make a short anchor and folder name


def slug(text: str) -> str:
    s = _NON.sub("-", text.lower()).strip("-") or "x"
    if len(s) > SLUG_MAX:
        s = s[:SLUG_MAX].rsplit("-", 1)[0] or s[:SLUG_MAX]
    return s


def estimate(term: IndexTerm) -> int:
    """Bytes of markup one term's own line takes (without its subterms)."""
    return (
        80
        + len(term.printed) * 11 // 10
        + 70 * len(term.codes)
        + 70 * bool(term.manif or term.subcat or term.seecat)
        + (len(term.see) + len(term.see_also) + len(term.use)) * 2
        + 60 * len(term.see_codes)
        + 24 * term.level
    )


@dataclass(slots=True, eq=False)
class Page:
    """One published page of a main term: the terms whose lines it shows (with their subterms, except
    those `moved` to pages of their own)."""

    url: str
    title: str
    main: IndexTerm
    terms: list[IndexTerm]  # the first-level lines of this page
    parents: list[IndexTerm] = field(default_factory=list)  # the path above `terms` (for the heading)
    moved: dict[IndexTerm, str] = field(default_factory=dict)  # term -> URL of the page holding its subterms
    parts: list[tuple[str, str]] = field(default_factory=list)  # (label, url) of the parts this page lists


@dataclass
class Layout:
    """Pages, slugs and anchors of one book. Keyed by the terms themselves (an IndexTerm hashes by
    identity), not by id(): a layout pickled with its book (reference.py's cache) keeps its keys."""

    book: IndexBook
    base: str
    slugs: dict[IndexTerm, str] = field(default_factory=dict)  # main term -> slug
    anchors: dict[IndexTerm, str] = field(default_factory=dict)  # term -> anchor ("" for a main term)
    page_of: dict[IndexTerm, str] = field(default_factory=dict)  # term -> URL of the page showing its line
    pages: list[Page] = field(default_factory=list)
    shared: dict[str, list[IndexTerm]] = field(default_factory=dict)  # a first word many main terms share

    def url(self, term: IndexTerm) -> str:
        anchor = self.anchors.get(term, "")
        return self.page_of[term] + (f"#{anchor}" if anchor else "")


def _size(term: IndexTerm, cache: dict[int, int]) -> int:
    hit = cache.get(id(term))
    if hit is None:
        hit = cache[id(term)] = estimate(term) + sum(_size(c, cache) for c in term.children)
    return hit


def layout(book: IndexBook) -> Layout:
    """Slugs, anchors and pages of every main term of `book` (the tables have one page per letter and
    anchors only; see `table_layout`)."""
    out = Layout(book, BASES[book.kind])
    mains = list(book.main_terms())
    firsts: dict[str, list[IndexTerm]] = {}
    for m in mains:
        firsts.setdefault(slug(m.label.split(", ")[0].split(" (")[0]), []).append(m)
    taken: set[str] = set()
    for m in mains:
        first = slug(m.label.split(", ")[0].split(" (")[0])
        s = first if len(firsts[first]) == 1 else slug(m.label)
        n = 2
        base = s
        while s in taken or s.startswith("letter-"):
            s = f"{base}-{n}"
            n += 1
        taken.add(s)
        out.slugs[m] = s
    for first, group in firsts.items():
        if len(group) > 1 and first not in taken:
            out.shared[first] = group
    sizes: dict[int, int] = {}
    for m in mains:
        _anchors(m, "", out.anchors, set())
        url = f"{out.base}{out.slugs[m]}/"
        out.page_of[m] = url
        _paginate(out, m, [], m.children, url, m.label or m.printed, sizes)
    return out


def _anchors(term: IndexTerm, prefix: str, anchors: dict[IndexTerm, str], used: set[str]) -> None:
    for c in term.children:
        own = slug(c.label or c.nemod or c.see or c.use or "-".join(c.codes))
        a = f"{prefix}--{own}" if prefix else own
        base, n = a, 2
        while a in used:
            a = f"{base}-{n}"
            n += 1
        used.add(a)
        anchors[c] = a
        _anchors(c, a, anchors, used)


def _paginate(
    out: Layout,
    main: IndexTerm,
    parents: list[IndexTerm],
    items: list[IndexTerm],
    url: str,
    title: str,
    sizes: dict[int, int],
) -> None:
    page = Page(url, title, main, items, parents)
    out.pages.append(page)
    total = sum(_size(t, sizes) for t in items)
    if total > BUDGET:
        # Move the biggest subtrees to pages of their own until the rest fits.
        for t in sorted((t for t in items if t.children), key=lambda t: -_size(t, sizes)):
            if total <= BUDGET:
                break
            sub = f"{url}{out.anchors[t].rsplit('--', 1)[-1]}/"
            page.moved[t] = sub
            total -= _size(t, sizes) - estimate(t) - 60
    if total > BUDGET:
        # Still too many lines: cut them into parts, each on a page of its own.
        page.terms = []
        part: list[IndexTerm] = []
        used = 0
        n = 0
        for t in items:
            cost = estimate(t) + (60 if t in page.moved or t.children else 0)
            if part and used + cost > BUDGET - 2000 and len(part) >= PART_MIN:
                n += 1
                page.parts.append(_part(out, main, parents, part, url, title, n, sizes))
                part, used = [], 0
            part.append(t)
            used += cost
        if part:
            n += 1
            page.parts.append(_part(out, main, parents, part, url, title, n, sizes))
        for t in items:
            out.page_of[t] = out.page_of.get(t, url)
        return
    for t in items:
        out.page_of[t] = url
        if t in page.moved:
            _paginate(
                out,
                main,
                [*parents, t],
                t.children,
                page.moved[t],
                f"{title}, {t.label or t.printed}",
                sizes,
            )
        else:
            for _, d in t.walk():
                if d is not t:
                    out.page_of[d] = url


def _part(
    out: Layout,
    main: IndexTerm,
    parents: list[IndexTerm],
    terms: list[IndexTerm],
    url: str,
    title: str,
    n: int,
    sizes: dict[int, int],
) -> tuple[str, str]:
    first = terms[0].label or terms[0].printed
    last = terms[-1].label or terms[-1].printed
    label = f"{first} \u2013 {last}" if len(terms) > 1 else first
    sub = f"{url}part-{n}/"
    before = len(out.pages)
    _paginate(out, main, parents, terms, sub, f"{title}: {label}", sizes)
    out.pages[before].title = f"{title}: {label}"
    return label, sub


def letter_slug(title: str) -> str:
    """ "letter-a" … "letter-z"; a letter title without a letter or digit ("#") is "letter-numbers"."""
    return "letter-" + (slug(title) if _NON.sub("", title.lower()) else "numbers")


def letter_key(label: str) -> str:
    """The letter a table row is filed under: A-Z, or "#" for digits, symbols and other letters."""
    first = label[:1].upper()
    return first if "A" <= first <= "Z" else "#"
