"""Stage: what the reference books add to code pages.

* ICD-10-CM code pages get a public "Index entries for this code" block: the index lines, table rows
  and cross-references that lead to the code (the reverse lookup), linked to the index pages.
* ICD-10-PCS table pages ("0DT") get the table drawn as CMS prints it; each PCS code page names the
  meaning of all seven characters and shows the definitions that apply (root operation, approach,
  body part, device).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from pathlib import Path

from . import books as b
from .config import SiteConfig
from .fragments import escape
from .index_layout import BASES
from .link import CodeSetModel
from .load import code_version, stat_key
from .model import ICD10CM, ICD10PCS, Section
from .pickle_cache import cache_file, cached
from .progress import phase
from .reference import References, references, sources
from .xrefs import code_key

ENTRIES_MAX = 30  # lines in the block; a code named by more links the rest through the index
# Section kinds added here (all public: see config.DEFAULT_PROTECTED).
INDEX_ENTRIES, PCS_TABLE, PCS_DEFINITIONS = "index-entries", "pcs-table", "pcs-definitions"
NOT_SEARCHED = frozenset({INDEX_ENTRIES, PCS_TABLE, PCS_DEFINITIONS})  # the word index has these as entries
BOOK_CODESETS = (ICD10CM, ICD10PCS)  # the code sets whose pages the books add to
CACHE_VERSION = "1"

Facts = list[tuple[str, str]]
# What the books add to the pages of one code set, by code key: the sections that follow the page's
# own, and the facts that replace its own (None: its own stay). Made from the books alone, so that it
# can be made (and cached) before the code sets are loaded.
Additions = dict[str, tuple[list[Section], Facts | None]]


def attach_books(cfg: SiteConfig, models: dict[str, CodeSetModel], *, quiet: bool = False) -> None:
    """The books stage: adds the sections (and PCS facts) the reference books of `models`' code sets give,
    from the cache of `additions` (in a cold build, made by the children of `cold_caches.ColdCaches`,
    which the build waits for first)."""
    wanted = [cs for cs in BOOK_CODESETS if cs in models and sources(cfg, [cs])]
    if wanted:
        with phase("books", quiet=quiet):
            for codeset in wanted:
                apply(models[codeset], additions(cfg, codeset, models.keys()))


def missing(cfg: SiteConfig) -> list[str]:
    """The code sets whose `additions` are not cached yet (a cold build: see `cold_caches.py`)."""
    return [cs for cs in BOOK_CODESETS if cs in cfg.codesets and (c := _cache(cfg, cs)) is not None
            and not c.exists()]


def additions(cfg: SiteConfig, codeset: str, codesets: Collection[str]) -> Additions:
    """What the books of `codeset` add to its pages (see `Additions`), through a pickle cache keyed by
    the books' files and the generator's code (as the books' own parse cache is); `codesets`: those
    whose books `references` loads when it is made (the build's, for the later stages to share)."""
    cache = _cache(cfg, codeset)
    if cache is None:
        return {}
    return cached(cache, _kind(codeset), lambda: made(codeset, references(cfg, codesets)))


def _kind(codeset: str) -> str:
    return f"books-{codeset}"


def _cache(cfg: SiteConfig, codeset: str) -> Path | None:
    """The cache file of `additions` (None: the project has no book of `codeset`)."""
    found = sources(cfg, [codeset])
    if not found:
        return None
    h = hashlib.blake2b(f"{CACHE_VERSION}|{code_version(cfg.root)}|{codeset}".encode(), digest_size=12)
    for kind, path in found:
        h.update(f"|{kind}={stat_key(path)}".encode())
    return cache_file(cfg.state_dir / "cache", _kind(codeset), h.hexdigest())


def made(codeset: str, refs: References) -> Additions:
    """What the books add to the pages of `codeset` (not cached)."""
    if codeset == ICD10CM and refs.books.cm:
        return _index_entries(refs)
    if codeset == ICD10PCS and refs.books.pcs_tables is not None:
        return _pcs(refs)
    return {}


def apply(model: CodeSetModel, added: Additions) -> None:
    """Adds `added` to the records of `model` it names (in place); ICD-10-CM's index entries go on
    code pages only."""
    codes_only = model.codeset == ICD10CM
    records, index = model.records, model.index
    for key, (sections, facts) in added.items():
        i = index.get(key)
        if i is None:
            continue
        rec = records[i]
        if codes_only and not rec.is_code:
            continue
        if facts is not None:
            rec.facts = facts
        rec.sections = [*rec.sections, *sections]


def attach(models: dict[str, CodeSetModel], refs: References) -> None:
    """Adds the books' sections to the code sets' records (in place), made now (no cache)."""
    for codeset in BOOK_CODESETS:
        if codeset in models:
            apply(models[codeset], made(codeset, refs))


# ---------------------------------------------------------------------------------------------
# ICD-10-CM: the reverse lookup


def _lines(refs: References) -> Iterator[tuple[str, str, str, str]]:
    """(code, link url, path text, what follows) for every index line and table cell naming a code."""
    for kind in (b.CM_INDEX, b.CM_EINDEX):
        book = refs.books.cm.get(kind)
        if book is None:
            continue
        lay = refs.layout(book)
        for main in book.main_terms():
            for _, term, text in _walk(main, " \u203a "):
                for c in (*term.codes, term.subcat, term.seecat):
                    if c:
                        yield code_key(c), lay.url(term), text, ""
                if term.manif:
                    yield code_key(term.manif), lay.url(term), text, "(manifestation)"
                if term.see and not term.codes:
                    target = refs.resolve(kind, term.see)
                    if target is not None and target.complete and target.path:
                        for c in target.path[-1].codes:
                            yield code_key(c), lay.url(term), text, f"see {term.see}"
    for kind in (b.CM_NEOPLASM, b.CM_DRUG):
        book = refs.books.cm.get(kind)
        if book is None:
            continue
        name = b.BOOK_NAMES[kind]
        for main in book.main_terms():
            for path, term, text in _walk(main, ", "):
                if not any(term.cells):
                    continue
                url = refs.table_url(book, [*path, term])
                for head, cell in zip(book.heads[1:], term.cells, strict=False):
                    if cell:
                        yield code_key(cell), url, f"{name}: {text}", f"\u2014 {head}"


def _walk(main: b.IndexTerm, sep: str) -> Iterator[tuple[list[b.IndexTerm], b.IndexTerm, str]]:
    """(ancestors, term, the labels from the main term down joined by `sep`) for every term under `main`,
    in printed order: `IndexTerm.walk` with each line's text made from its parent's, not from scratch."""
    stack: list[tuple[list[b.IndexTerm], b.IndexTerm, str]] = [([], main, main.label or main.printed)]
    while stack:
        path, term, text = stack.pop()
        yield path, term, text
        if term.children:
            below = [*path, term]
            stack.extend((below, c, f"{text}{sep}{c.label or c.printed}") for c in reversed(term.children))


def _index_entries(refs: References) -> Additions:
    found: dict[str, list[tuple[str, str, str]]] = {}
    for key, url, text, tail in _lines(refs):
        found.setdefault(key, []).append((url, text, tail))
    home = BASES[b.CM_INDEX]
    out: Additions = {}
    for key, lines in found.items():
        shown = lines[:ENTRIES_MAX]
        items = "".join(
            f'<li><a href="{escape(u)}">{escape(t)}</a>{" " + escape(x) if x else ""}</li>'
            for u, t, x in shown
        )
        more = (
            f'<p>And {len(lines) - len(shown)} more lines of the <a href="{home}">Alphabetic Index</a>.</p>'
            if len(lines) > len(shown)
            else ""
        )
        html = f'<ul class="index-entries">{items}</ul>{more}'
        text = "\n".join(f"{t} {x}".strip() for _, t, x in lines)
        section = Section(INDEX_ENTRIES, INDEX_ENTRIES, "Index entries for this code", html, text, False)
        out[key] = ([section], None)
    return out


# ---------------------------------------------------------------------------------------------
# ICD-10-PCS: tables, character meanings, definitions


def _grid(table: b.PcsTable) -> str:
    head = "".join(
        f'<th scope="col">{escape(t)}</th>' for t in (table.rows[0].titles[p] for p in (4, 5, 6, 7))
    )
    out = [
        '<table class="pcs-grid pcs-head"><tbody>',
        *(
            f'<tr><th scope="row">{escape(table.titles.get(p, ""))}</th><td><span '
            f'class="v">{escape(table.head[p].code)}</span>'
            f"{escape(table.head[p].label)}</td></tr>"
            for p in (1, 2, 3)
        ),
        "</tbody></table>",
    ]
    if table.definition:
        out.append(f"<p><strong>{escape(table.head[3].label)}:</strong> {escape(table.definition)}</p>")
    seen: set[str] = set()  # a body part that recurs in a later row keeps the anchor of its first row
    for n, row in enumerate(table.rows, 1):
        parts = []
        for v in row.axes[4]:
            anchor = "" if v.code in seen else f' id="row-{escape(v.code)}"'
            seen.add(v.code)
            parts.append(f'<span class="v"{anchor}>{escape(v.code)}</span>{escape(v.label)}')
        cells = "<td>" + "<br>".join(parts) + "</td>" + "".join(
            "<td>"
            + "<br>".join(f'<span class="v">{escape(v.code)}</span>{escape(v.label)}' for v in row.axes[p])
            + "</td>"
            for p in (5, 6, 7)
        )
        out.append(
            f'<table class="pcs-grid"><caption>Row {n}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody><tr>{cells}</tr></tbody></table>"
        )
    return "".join(out)


def _pcs(refs: References) -> Additions:
    tables = refs.books.pcs_tables
    assert tables is not None
    defs = refs.books.pcs_definitions
    lookup = defs.lookup() if defs is not None else {}
    shared: dict[tuple[str, ...], Section] = {}
    # Each code's seven (label, meaning) facts, one object per distinct pair: 80k codes x 7 pairs
    # of fresh strings were 135 MB of the model, copied again into every render worker.
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    parts: dict[tuple[int, int], tuple[str, str]] = {}
    out: Additions = {}

    def sections(key: str) -> list[Section]:
        found = out.get(key)
        if found is None:
            found = out[key] = ([], None)
        return found[0]

    for table in tables.tables:
        html = _grid(table)
        text = f"{table.head[3].label}: {table.definition}"
        sections(table.key).append(Section(PCS_TABLE, PCS_TABLE, "Table", html, text, False))
        # The definitions depend on the labels of characters 4-6 (3 is the table's): one per combination.
        defined: dict[tuple[str, str, str], Section | None] = {}
        key = table.key
        for row in table.rows:
            titles = {**table.titles, **row.titles}

            def fact(p: int, v: b.PcsValue, titles: dict[int, str] = titles) -> tuple[str, str]:
                pair = (f"{titles.get(p, f'Character {p}')} (character {p})", f"{v.code} \u2014 {v.label}")
                return pairs.setdefault(pair, pair)

            head = [fact(p, table.head[p]) for p in (1, 2, 3)]
            # Each value of characters 4-7 with its fact; a code names the first value of its character.
            axes = []
            for p in (4, 5, 6, 7):
                first: dict[str, b.PcsValue] = {}
                for v in row.axes.get(p, []):
                    first.setdefault(v.code, v)
                axes.append([(v.code, first[v.code], fact(p, first[v.code])) for v in row.axes.get(p, [])])
            a4, a5, a6, a7 = axes
            for c4, v4, f4 in a4:
                for c5, v5, f5 in a5:
                    for c6, v6, f6 in a6:
                        labels = (v4.label, v5.label, v6.label)
                        if labels in defined:
                            section = defined[labels]
                        else:
                            values = {3: table.head[3], 4: v4, 5: v5, 6: v6}
                            section = defined[labels] = _definitions(table, values, lookup, shared, parts)
                        for c7, _, f7 in a7:
                            code = key + c4 + c5 + c6 + c7
                            added = sections(code)
                            if section is not None:
                                added.append(section)
                            out[code] = (added, [*head, f4, f5, f6, f7])
    return out


def _definitions(
    table: b.PcsTable,
    values: dict[int, b.PcsValue],
    lookup: dict[tuple[str, int, str], b.PcsTerm],
    shared: dict[tuple[str, ...], Section],
    parts: dict[tuple[int, int], tuple[str, str]],
) -> Section | None:
    """The definitions that apply to one code, as one section shared by every code with the same ones;
    `parts`: each term's piece (by position and term object), made once."""
    sec = table.head[1].code
    found = [(p, lookup.get((sec, p, values[p].label.lower()))) for p in (3, 5, 4, 6)]
    terms = [(p, t) for p, t in found if t is not None]
    if not terms:
        return None
    key = tuple(f"{p}:{t.title}" for p, t in terms)
    hit = shared.get(key)
    if hit is not None:
        return hit
    html = []
    text = []
    for p, t in terms:
        made = parts.get((p, id(t)))
        if made is None:
            made = parts[p, id(t)] = _definition(p, t)
        html.append(made[0])
        text.append(made[1])
    hit = shared[key] = Section(
        PCS_DEFINITIONS, PCS_DEFINITIONS, "Definitions", f"<dl>{''.join(html)}</dl>", "\n".join(text), False
    )
    return hit


_NAMES = {3: "Root operation", 4: "Body part", 5: "Approach", 6: "Device"}


def _definition(p: int, t: b.PcsTerm) -> tuple[str, str]:
    """The HTML and text of one term in a definitions section (many sections share a term)."""
    html = [f"<dt>{_NAMES[p]}: {escape(t.title)}</dt>"]
    if t.definition:
        html.append(f"<dd>{escape(t.definition)}</dd>")
    if t.explanation:
        html.append(f"<dd>Explanation: {escape(t.explanation)}</dd>")
    if t.includes:
        html.append(f"<dd>Includes: {escape('; '.join(t.includes))}</dd>")
    return "".join(html), f"{t.title}: {t.definition} {t.explanation} {'; '.join(t.includes)}".strip()
