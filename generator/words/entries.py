"""The phrases that lead to codes, per code set: official titles, inclusion terms, public text, and the
index paths, table rows, PCS index terms and definitions that point at codes.

An entry's words are in *slots*: the words a phrase needs (a title's words; a main term and each subterm
of an index path, variants such as "Infection, infected, infective" sharing one slot) and *modifiers*
that may be searched but are not needed (nonessential modifiers, a PCS code's approach and device under
an index term). Ranking compares how many slots a query covers (see `generator.words.rank`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from .. import books as b
from ..config import SiteConfig
from ..link import CodeSetModel
from ..model import ICD10CM, ICD10PCS
from ..xrefs import Resolver, Target, code_key
from .synonyms import Synonym
from .text import tokens

# Entry kinds, in the order of the index files (an entry's kind is stored with each of its postings).
TITLE, INCLUSION, INDEX, EXTERNAL, NEOPLASM, DRUG, PCS_INDEX, DEFINITION, TEXT = range(9)
KIND_NAMES = (
    "title",
    "inclusion",
    "index",
    "external",
    "neoplasm",
    "drug",
    "pcs-index",
    "definition",
    "text",
)
# What the result line says an entry came from.
KIND_LABELS = (
    "",
    "Inclusion term",
    "Index",
    "External cause index",
    "Neoplasm Table",
    "Table of Drugs",
    "ICD-10-PCS Index",
    "Definition",
    "",
)
MAX_SLOTS = 31
CM_EXPAND = 12  # children of an ICD-10-CM header an index line names that get entries of their own
PCS_EXPAND = 60  # a partial PCS code leading to more codes than this points at its table instead
# The words of a table column head a row needs ("Malignant Primary": "malignant"); the rest are modifiers.
_HEAD_WORDS = {"ca in situ": ("situ",), "malignant secondary": ("malignant", "secondary")}


Slot = AbstractSet[str]  # never changed once in an entry: entries share them (see `one_word`)
NO_WORDS: Slot = frozenset()


@functools.cache
def one_word(token: str) -> Slot:
    """The slot of one word, one object per word: an ICD-10-CM index holds ~950,000 such slots (a set
    is 216 bytes) over ~22,000 words."""
    return frozenset((token,))


@dataclass(slots=True)
class Entry:
    kind: int
    targets: list[int]  # record indices in the code set's model
    via: str  # what the result line shows under the code ("" for a title)
    slots: list[Slot] = field(default_factory=list)
    extra: Slot = NO_WORDS
    # The first slot names the condition or procedure (an index line's main term): it counts twice, so
    # "hypertension" ranks the lines under Hypertension above lines that only mention it further down.
    main: bool = False

    def __post_init__(self) -> None:
        if not self.extra:
            self.extra = NO_WORDS  # most entries have none: one object for all

    @property
    def order(self) -> tuple[int, int]:
        return (self.targets[0], self.kind)


def word_slots(text: str) -> list[Slot]:
    """One slot per distinct word."""
    return [one_word(t) for t in dict.fromkeys(tokens(text))]


def term_slots(term: b.IndexTerm, default: bool = False) -> tuple[list[Slot], Slot]:
    """Slots of one index term: its first comma part's words, variants of it ("infected, infective")
    in the same slot, other parts ("Fracture, pathological") slots of their own; modifiers apart.
    `default`: the term is the main entry of its first word ("Fracture, traumatic" among "Fracture, …"):
    its other parts are modifiers, as a coder looking up "fracture" means it."""
    parts = [p for p in term.label.split(", ") if p.strip()]
    slots: list[set[str]] = []
    extra = set(tokens(term.nemod))
    first = tokens(parts[0]) if parts else []
    for t in first:
        slots.append({t})
    if not first and term.level:
        # "in", "with": a subterm of stop words still makes the line longer than the query (no token
        # can cover it), so "gout" alone is not an exact match of "Gout, in …".
        slots.append(set())
    for p in parts[1:]:
        tp = tokens(p)
        if tp and first and slots and tp[0][:4] == first[0][:4]:
            slots[0].update(tp)
        elif default:
            extra.update(tp)
        else:
            slots.extend({t} for t in tp if not any(t in s for s in slots))
    return [one_word(next(iter(s))) if len(s) == 1 else s for s in slots], extra or NO_WORDS


class SynonymIndex:
    """The synonyms by one word of each of their phrases, so an entry is checked only against the
    phrases that share a word with it."""

    def __init__(self, synonyms: list[Synonym]) -> None:
        self.by_word: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for syn in synonyms:
            for phrase in syn.phrases:
                self.by_word.setdefault(min(phrase), []).append((syn.token, phrase))

    def tokens_for(self, entry: Entry) -> dict[str, int]:
        """Synonym tokens an entry answers to, with how many of its slots each covers."""
        words: set[str] = set(entry.extra)
        for s in entry.slots:
            words |= s
        out: dict[str, int] = {}
        for w in words:
            for token, phrase in self.by_word.get(w, ()):
                if phrase <= words:
                    cover = sum(1 for s in entry.slots if s & phrase) + (
                        1 if entry.main and entry.slots[0] & phrase else 0
                    )
                    if cover >= out.get(token, 0):
                        out[token] = cover
        return out


class Collector:
    """Builds the entries of one code set from its model and the books that lead to it."""

    def __init__(self, cfg: SiteConfig, model: CodeSetModel, titles: list[str], skip: set[int]) -> None:
        self.cfg = cfg
        self.model = model
        self.titles = titles
        self.skip = skip  # folded 7th-character extensions: their base code stands for them
        # Keyed by id(term): the books outlive the collector.
        self._slots: dict[int, tuple[list[Slot], Slot]] = {}
        self._by4: dict[str, list[int]] | None = None
        self._title_words: dict[int, set[str]] = {}
        self._defaults: set[int] = set()  # id() of main terms that are the main entry of their first word

    def mark_defaults(self, book: b.IndexBook) -> None:
        """Of the main terms sharing a first part ("Fracture, burst", "Fracture, pathological", "Fracture,
        traumatic"), the largest is the one the word means alone."""
        groups: dict[str, list[tuple[int, b.IndexTerm]]] = {}
        for main in book.main_terms():
            head = main.label.split(", ")[0].lower()
            groups.setdefault(head, []).append((sum(1 for _ in main.walk()), main))
        for found in groups.values():
            if len(found) > 1:
                self._defaults.add(id(max(found, key=lambda x: x[0])[1]))

    def path_slots(self, terms: tuple[b.IndexTerm, ...]) -> tuple[list[Slot], set[str]]:
        """Slots and modifiers of an index path (each term's computed once)."""
        slots: list[Slot] = []
        extra: set[str] = set()
        for t in terms:
            if not (t.title or t.nemod):
                continue
            hit = self._slots.get(id(t))
            if hit is None:
                hit = self._slots[id(t)] = term_slots(t, id(t) in self._defaults)
            slots.extend(hit[0])
            extra |= hit[1]
        return slots, extra

    def title_words(self, i: int) -> set[str]:
        found = self._title_words.get(i)
        if found is None:
            found = self._title_words[i] = set(tokens(self.titles[i]))
        return found

    def from_records(self, public_texts: list[list[tuple[str, str, str]]]) -> Iterator[Entry]:
        for i, _ in enumerate(self.model.records):
            if i not in self.skip:
                yield from record_entries(i, self.titles[i], public_texts[i])

    # --- ICD-10-CM ---------------------------------------------------------------------------

    def cm_key(self, printed: str) -> int | None:
        """The record of an index code, or of its nearest existing ancestor (a newer tabular may have
        split or extended the code the index names)."""
        key = code_key(printed)
        index = self.model.index
        while key:
            i = index.get(key)
            if i is not None:
                return i
            key = key[:-1].rstrip(".")
        return None

    def with_children(self, codes: list[int]) -> Iterator[tuple[int, set[str]]]:
        """Each code, then (for a header the index names, "S72.00-") its children with the words that
        tell them apart ("left"), so a query with those words finds the child through the index line."""
        recs = self.model.records
        for i in codes:
            yield i, set()
            kids = [c for c in self.model.children.get(i, []) if c not in self.skip]
            if 1 < len(kids) <= CM_EXPAND and recs[i].is_code:
                head = self.title_words(i)
                for c in kids:
                    yield c, self.title_words(c) - head

    def own_codes(self, term: b.IndexTerm) -> list[int]:
        found = [self.cm_key(c) for c in (*term.codes, term.manif, term.subcat, term.seecat) if c]
        return list(dict.fromkeys(i for i in found if i is not None))

    def cm_index(self, book: b.IndexBook, resolver: Resolver, kind: int) -> Iterator[Entry]:
        self.mark_defaults(book)
        for main in book.main_terms():
            for path, term in main.walk():
                codes = self.own_codes(term)
                via_see = ""
                if not codes:
                    for ref, word in ((term.see, "see"), (term.see_also, "see also")):
                        if ref:
                            codes = self.target_codes(resolver.resolve(book.kind, ref), resolver)
                            if codes:
                                via_see = f" \u2192 {word} {ref}"
                                break
                if not codes:
                    continue
                slots, extra = self.path_slots((*path, term))
                via = " \u203a ".join(t.label for t in (*path, term) if t.label) + via_see
                yield Entry(kind, codes, via, slots[:MAX_SLOTS], extra, main=True)
                for i, words in self.with_children(codes):
                    if words:
                        yield Entry(kind, [i], via, slots[:MAX_SLOTS], extra | words, main=True)

    def target_codes(self, target: Target | None, resolver: Resolver, depth: int = 0) -> list[int]:
        """The codes a cross-reference leads to: its term's own codes, else where that term points."""
        if target is None or not target.complete:
            return []
        if target.code:
            i = self.cm_key(target.code)
            return [i] if i is not None else []
        if not target.path:
            return []
        term = target.path[-1]
        if target.book in (b.CM_NEOPLASM, b.CM_DRUG):
            cells = [c for c in term.cells if c]
            if target.column is not None and target.column < len(term.cells):
                cells = [term.cells[target.column]] if term.cells[target.column] else []
            return [i for i in (self.cm_key(c) for c in cells) if i is not None]
        codes = self.own_codes(term)
        if not codes and term.see and depth < 2:
            codes = self.target_codes(resolver.resolve(target.book, term.see), resolver, depth + 1)
        return codes

    def cm_table(self, book: b.IndexBook, kind: int) -> Iterator[Entry]:
        heads = [(h, _head_slots(h)) for h in book.heads[1:]]
        for main in book.main_terms():
            for path, term in main.walk():
                if not any(term.cells):
                    continue
                slots, extra = self.path_slots((*path, term))
                label = ", ".join(t.label for t in (*path, term) if t.label)
                for (head, (hs, hm)), cell in zip(heads, term.cells, strict=False):
                    i = self.cm_key(cell) if cell else None
                    if i is None:
                        continue
                    for c, words in self.with_children([i]):
                        yield Entry(
                            kind,
                            [c],
                            f"{label} \u2014 {head}",
                            (slots + hs)[:MAX_SLOTS],
                            extra | hm | words,
                            main=True,
                        )

    # --- ICD-10-PCS --------------------------------------------------------------------------

    def pcs_targets(self, code: str) -> list[tuple[int, set[str]]]:
        """Records a PCS index code leads to, with the words that tell them apart: a full code; the codes
        of a partial code (each with its approach, device and qualifier words); a table."""
        index = self.model.index
        if len(code) == 7:
            i = index.get(code)
            return [(i, set())] if i is not None else []
        if len(code) > 3:
            if self._by4 is None:
                self._by4 = {}
                for n, rec in enumerate(self.model.records):
                    if rec.is_code:
                        self._by4.setdefault(rec.key[:4], []).append(n)
            recs = self.model.records
            below = [c for c in self._by4.get(code[:4], []) if recs[c].key.startswith(code)]
            table = index.get(code[:3])
            if below and len(below) <= PCS_EXPAND and table is not None:
                head = self.title_words(table)
                return [(c, self.title_words(c) - head) for c in below]
            code = code[:3]
        i = index.get(code)
        return [(i, set())] if i is not None else []

    def family_slots(
        self, slots: list[Slot], targets: list[tuple[int, set[str]]]
    ) -> Iterator[tuple[int, set[str], list[Slot]]]:
        """The slots of each code a partial PCS code leads to. The index names four characters
        ("Pacemaker › Dual Chamber › Chest: 0JH6"); the table's codes below them include monitoring
        devices and defibrillators. A code whose title lacks index words that a sibling's title has gets
        one empty slot per missing word, so "pacemaker" ranks 0JH606Z (Pacemaker, Dual Chamber) ahead of
        0JH600Z (Monitoring Device), and only the codes that say it all are an exact match. Words no
        sibling has ("Appendectomy" for the Resection codes) cost nobody anything."""
        if len(targets) < 2:
            yield from ((i, words, slots) for i, words in targets)
            return
        held = [{k for k, slot in enumerate(slots) if slot & self.title_words(i)} for i, _ in targets]
        somewhere = set().union(*held)
        for (i, words), has in zip(targets, held, strict=True):
            missing = len(somewhere - has)
            yield i, words, slots + [NO_WORDS] * missing if missing else slots

    def pcs_index(self, book: b.IndexBook) -> Iterator[Entry]:
        for main in book.main_terms():
            for path, term in main.walk():
                codes = (*term.codes, *term.see_codes)
                if not codes:
                    continue
                slots, extra = self.path_slots((*path, term))
                ref = term.see or term.use
                extra = extra | set(tokens(ref))
                via = " \u203a ".join(t.title for t in (*path, term) if t.title)
                if ref:
                    via += f" \u2192 {'see' if term.see else 'use'} {ref}"
                for code in codes:
                    targets = self.pcs_targets(code)
                    for i, words, own in self.family_slots(slots, targets):
                        yield Entry(PCS_INDEX, [i], via, own[:MAX_SLOTS], extra | words, main=True)

    def pcs_definitions(self, defs: b.PcsDefinitions) -> Iterator[Entry]:
        """Root operations: their definition and explanation lead to their tables."""
        tables: dict[tuple[str, str], list[int]] = {}
        for i, rec in enumerate(self.model.records):
            if rec.kind == "root-operation" and len(rec.key) == 3:
                name = rec.title.rsplit(", ", 1)[-1].lower()
                tables.setdefault((rec.key[0], name), []).append(i)
        for term in defs.terms:
            if term.pos != 3:
                continue
            targets = tables.get((term.section, term.title.lower()))
            if not targets:
                continue
            for text in (term.definition, term.explanation, *term.includes):
                slots = word_slots(text)
                if slots:
                    via = f"{term.title}: {text}"
                    yield Entry(
                        DEFINITION,
                        list(targets),
                        via if len(via) <= 160 else via[:159] + "\u2026",
                        slots[:MAX_SLOTS],
                        set(tokens(term.title)),
                    )


def record_entries(i: int, title: str, texts: list[tuple[str, str, str]]) -> Iterator[Entry]:
    """The entries of one record's own words: its title, and each public section (an inclusion term
    per line), in page order. Kinds TITLE, INCLUSION and TEXT only: no book entry has them
    (`generator.search_splice` relies on it)."""
    if title:
        yield Entry(TITLE, [i], "", word_slots(title))
    for kind, _, text in texts:
        if kind in ("summary", "description") and text == title:
            continue
        lines = text.split("\n") if kind == "inclusion-terms" else [text]
        for line in lines:
            slots = word_slots(line)
            if slots:
                k = INCLUSION if kind == "inclusion-terms" else TEXT
                yield Entry(k, [i], line if len(line) <= 160 else line[:159] + "\u2026", slots[:MAX_SLOTS])


OWN_KINDS = frozenset((TITLE, INCLUSION, TEXT))  # the kinds of `record_entries`


def _head_slots(head: str) -> tuple[list[Slot], set[str]]:
    """A table column head's needed words and modifiers: "Poisoning Accidental (unintentional)" needs
    "poisoning"; "Adverse effect" needs "adverse"."""
    words = tokens(head)
    need = _HEAD_WORDS.get(" ".join(head.lower().split()), tuple(words[:1]))
    return [one_word(w) for w in need], set(words) - set(need)


def collect(
    cfg: SiteConfig,
    model: CodeSetModel,
    titles: list[str],
    skip: set[int],
    public_texts: list[list[tuple[str, str, str]]],
    books: object,
    resolver: Resolver | None,
) -> list[Entry]:
    """Every entry of one code set, sorted so that the entries of one code (and family) are neighbours."""
    from ..reference import Books

    c = Collector(cfg, model, titles, skip)
    out = list(c.from_records(public_texts))
    if isinstance(books, Books) and resolver is not None:
        if model.codeset == ICD10CM:
            kinds = {b.CM_INDEX: INDEX, b.CM_EINDEX: EXTERNAL}
            for k, book in books.cm.items():
                if k in kinds:
                    out.extend(c.cm_index(book, resolver, kinds[k]))
                else:
                    out.extend(c.cm_table(book, NEOPLASM if k == b.CM_NEOPLASM else DRUG))
        elif model.codeset == ICD10PCS:
            if books.pcs_index is not None:
                out.extend(c.pcs_index(books.pcs_index))
            if books.pcs_definitions is not None:
                out.extend(c.pcs_definitions(books.pcs_definitions))
    out = [e for e in out if e.slots]
    out.sort(key=lambda e: e.order)
    return out
