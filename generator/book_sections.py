"""Stage: what the reference books add to code pages.

* ICD-10-CM code pages get a public "Index entries for this code" block: the index lines, table rows
  and cross-references that lead to the code (the reverse lookup), linked to the index pages.
* ICD-10-PCS table pages ("0DT") get the table drawn as CMS prints it; each PCS code page names the
  meaning of all seven characters and shows the definitions that apply (root operation, approach,
  body part, device).
"""

from __future__ import annotations

from collections.abc import Iterator

from . import books as b
from .config import SiteConfig
from .fragments import escape
from .index_layout import BASES
from .link import CodeSetModel
from .model import ICD10CM, ICD10PCS, Section
from .progress import phase
from .reference import References, references
from .xrefs import code_key

ENTRIES_MAX = 30  # lines in the block; a code named by more links the rest through the index
# Section kinds added here (all public: see config.DEFAULT_PROTECTED).
INDEX_ENTRIES, PCS_TABLE, PCS_DEFINITIONS = "index-entries", "pcs-table", "pcs-definitions"
NOT_SEARCHED = frozenset({INDEX_ENTRIES, PCS_TABLE, PCS_DEFINITIONS})  # the word index has these as entries


def attach_books(cfg: SiteConfig, models: dict[str, CodeSetModel], *, quiet: bool = False) -> None:
    """The books stage: loads the reference books of `models`' code sets (if any) and adds their sections."""
    refs = references(cfg, models.keys())
    if refs.books:
        with phase("books", quiet=quiet):
            attach(models, refs)


def attach(models: dict[str, CodeSetModel], refs: References) -> None:
    """Adds the books' sections to the code sets' records (in place)."""
    cm = models.get(ICD10CM)
    if cm is not None and refs.books.cm:
        _index_entries(cm, refs)
    pcs = models.get(ICD10PCS)
    if pcs is not None and refs.books.pcs_tables is not None:
        _pcs(pcs, refs)


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
            for path, term in main.walk():
                text = " \u203a ".join(t.label or t.printed for t in (*path, term))
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
        for main in book.main_terms():
            for path, term in main.walk():
                text = ", ".join(t.label or t.printed for t in (*path, term))
                url = refs.table_url(book, [*path, term])
                for head, cell in zip(book.heads[1:], term.cells, strict=False):
                    if cell:
                        yield code_key(cell), url, f"{b.BOOK_NAMES[kind]}: {text}", f"\u2014 {head}"


def _index_entries(model: CodeSetModel, refs: References) -> None:
    found: dict[int, list[tuple[str, str, str]]] = {}
    for key, url, text, tail in _lines(refs):
        i = model.index.get(key)
        if i is not None:
            found.setdefault(i, []).append((url, text, tail))
    home = BASES[b.CM_INDEX]
    for i, lines in found.items():
        rec = model.records[i]
        if not rec.is_code:
            continue
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
        rec.sections = [
            *rec.sections,
            Section(INDEX_ENTRIES, INDEX_ENTRIES, "Index entries for this code", html, text, False),
        ]


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


def _pcs(model: CodeSetModel, refs: References) -> None:
    tables = refs.books.pcs_tables
    assert tables is not None
    defs = refs.books.pcs_definitions
    lookup = defs.lookup() if defs is not None else {}
    shared: dict[tuple[str, ...], Section] = {}
    # Each code's seven (label, meaning) facts, one object per distinct pair: 80k codes x 7 pairs
    # of fresh strings were 135 MB of the model, copied again into every render worker.
    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    for table in tables.tables:
        t = model.index.get(table.key)
        if t is not None:
            rec = model.records[t]
            html = _grid(table)
            text = f"{table.head[3].label}: {table.definition}"
            rec.sections = [*rec.sections, Section(PCS_TABLE, PCS_TABLE, "Table", html, text, False)]
        for row in table.rows:
            for code in row.codes(table.key):
                i = model.index.get(code)
                if i is None:
                    continue
                rec = model.records[i]
                values = {p: table.head[p] for p in (1, 2, 3)}
                for p in (4, 5, 6, 7):
                    values[p] = next(v for v in row.axes[p] if v.code == code[p - 1])
                titles = {**table.titles, **row.titles}
                facts = (
                    (
                        f"{titles.get(p, f'Character {p}')} (character {p})",
                        f"{values[p].code} \u2014 {values[p].label}",
                    )
                    for p in range(1, 8)
                )
                rec.facts = [pairs.setdefault(pair, pair) for pair in facts]
                section = _definitions(table, values, lookup, shared)
                if section is not None:
                    rec.sections = [*rec.sections, section]


def _definitions(
    table: b.PcsTable,
    values: dict[int, b.PcsValue],
    lookup: dict[tuple[str, int, str], b.PcsTerm],
    shared: dict[tuple[str, ...], Section],
) -> Section | None:
    """The definitions that apply to one code, as one section shared by every code with the same ones."""
    sec = table.head[1].code
    found = [(p, lookup.get((sec, p, values[p].label.lower()))) for p in (3, 5, 4, 6)]
    terms = [(p, t) for p, t in found if t is not None]
    if not terms:
        return None
    key = tuple(f"{p}:{t.title}" for p, t in terms)
    hit = shared.get(key)
    if hit is not None:
        return hit
    names = {3: "Root operation", 4: "Body part", 5: "Approach", 6: "Device"}
    html = []
    text = []
    for p, t in terms:
        html.append(f"<dt>{names[p]}: {escape(t.title)}</dt>")
        if t.definition:
            html.append(f"<dd>{escape(t.definition)}</dd>")
        if t.explanation:
            html.append(f"<dd>Explanation: {escape(t.explanation)}</dd>")
        if t.includes:
            html.append(f"<dd>Includes: {escape('; '.join(t.includes))}</dd>")
        text.append(f"{t.title}: {t.definition} {t.explanation} {'; '.join(t.includes)}".strip())
    hit = shared[key] = Section(
        PCS_DEFINITIONS, PCS_DEFINITIONS, "Definitions", f"<dl>{''.join(html)}</dl>", "\n".join(text), False
    )
    return hit
