"""ICD-10-CM importer: the official CDC tabular XML, including 7th-character codes and inherited notes."""
from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import model
from ..config import DEFAULT_PROTECTED
from ..errors import BuildError
from .bulk import gc_paused, package_dir
from .notes import NoteLinker, clean, escape
from .xmlpos import element_line, open_maybe_gzip

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

# Note containers of a tabular entry -> (section kind, section title). Order = order on the page.
NOTE_KINDS: tuple[tuple[str, str, str], ...] = (
    ("notes", "notes", "Notes"),
    ("inclusionTerm", "inclusion-terms", "Inclusion terms"),
    ("includes", "includes", "Includes"),
    ("excludes1", "excludes1", "Excludes1"),
    ("excludes2", "excludes2", "Excludes2"),
    ("codeFirst", "code-first", "Code first"),
    ("useAdditionalCode", "use-additional-code", "Use additional code"),
    ("codeAlso", "code-also", "Code also"),
)
_KIND_OF_TAG = {tag: kind for tag, kind, _ in NOTE_KINDS}
SEVENTH = "seventh-character"
SEVENTH_TITLE = "7th character"
# Every note kind applies to all codes beneath the chapter, block or code that carries it
# (ICD-10-CM Official Guidelines I.A.12-14), inclusion terms too: "Fracture of hip NOS" of S72.00
# holds for S72.001A, and blocks such as Z40-Z53 keep their instructions as inclusion terms.

# 7th characters the tabular excludes only in prose: the S06 note "7th characters D and S do not apply
# to codes in category S06 with 6th character 7 ... or 8". Category -> (6th characters, excluded 7ths).
SEVENTH_EXCEPTIONS: dict[str, tuple[str, str]] = {"S06": ("78", "DS")}

_TITLES = {kind: title for _, kind, title in NOTE_KINDS}
# The kinds that are premium by default (site.yml `protected:` decides at build time): they name
# their release inside the section.
CITED = frozenset(k for k in (*_TITLES, SEVENTH) if DEFAULT_PROTECTED.get(k, True))
_EMPTY: dict[str, tuple[str, str]] = {}

BILLABLE = "Billable/Specific code"
HEADER = "Header — not valid for claims (has subcodes)"
NEEDS_SEVENTH = "Header — not valid for claims without a 7th character"

_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_FILE_DATE = re.compile(rf"({_MONTHS})-(\d{{1,2}})-(\d{{4}})", re.IGNORECASE)


@dataclass(slots=True)
class _Seventh:
    """One `sevenChrDef` and its `sevenChrNote`, as defined on `owner`."""

    owner: _Node
    note: str
    chars: list[tuple[str, str, list[str]]]  # (char, meaning, extra inclusion notes)
    meanings: dict[str, str]
    # (applied char or "", inherited?) -> (html, text); a few variants shared by thousands of pages
    cache: dict[tuple[str, bool], tuple[str, str]] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class _Node:
    key: str
    title: str
    kind: str
    parent: _Node | None
    label: str = ""
    has_children: bool = False
    seventh: _Seventh | None = None  # own or inherited from the nearest ancestor
    extensions: list[str] = field(default_factory=list)  # 7th characters that make codes of this leaf
    notes: dict[str, list[str]] = field(default_factory=dict)  # section kind -> cleaned notes
    # Rendered notes of this node and its ancestors, each under a "From …" heading, as its descendants
    # show them: section kind -> (html, text), only non-empty kinds; filled on first use.
    inherited: dict[str, tuple[str, str]] | None = None


class Icd10CmImporter:
    kind = "icd10cm"
    codeset = model.ICD10CM
    description = "ICD-10-CM tabular list (CDC XML, e.g. icd10cm-tabular-2026.xml)"

    def default_source(self) -> Path | None:
        data = package_dir("simple_icd_10_cm") / "data"
        found = sorted(data.glob("icd10c*-tabular-*.xml")) if data.is_dir() else []
        return found[-1] if found else None

    def read(self, path: Path) -> Iterator[model.CodeRecord]:
        # Built eagerly: code links need every key first, and the whole set is needed downstream anyway.
        with gc_paused():
            records = self.read_all(path)
        yield from records

    def read_all(self, path: Path) -> list[model.CodeRecord]:
        nodes, source = _parse(path)
        keys: set[str] = {n.key for n in nodes}
        keys.update(_extended_key(n.key, c) for n in nodes for c in n.extensions)
        builder = _Builder(NoteLinker(self.codeset, keys), source)
        records: list[model.CodeRecord] = []
        order = 0
        for node in nodes:
            order += 1
            records.append(builder.record(node, order))
            for char in node.extensions:
                order += 1
                records.append(builder.extended(node, char, order))
        return records


def release_line(version: str, path: Path) -> str:
    """ "ICD-10-CM FY2026 (April 1, 2026 update), CDC" from `<version>` and a dated file name."""
    line = "ICD-10-CM"
    if version.isdigit():
        line += f" FY{version}"
    m = _FILE_DATE.search(path.name)
    if m:
        line += f" ({m.group(1).capitalize()} {int(m.group(2))}, {m.group(3)} update)"
    return line + ", CDC"


def _extensions(node: _Node) -> list[str]:
    """The 7th characters that combine with a leaf code under a 7th-character rule."""
    if node.seventh is None or node.has_children:
        return []
    chars = [c for c, _, _ in node.seventh.chars]
    bare = node.key.replace(".", "")
    rule = SEVENTH_EXCEPTIONS.get(bare[:3])
    if rule and len(bare) >= 6 and bare[5] in rule[0]:
        chars = [c for c in chars if c not in rule[1]]
    return chars


def _extended_key(key: str, char: str) -> str:
    """S72.001 + A -> S72.001A; T15.0 + A -> T15.0XXA (X placeholders fill up to 6 characters)."""
    if "." not in key:
        key += "."
    return key.ljust(7, "X") + char


# ---------------------------------------------------------------------------------------- parsing


def _parse(path: Path) -> tuple[list[_Node], str]:
    """All chapters, blocks and codes in document order, with notes and 7th-character rules attached."""
    # Imported here: every command imports the importers, and a build parses this file only when its
    # parse cache is cold (ElementTree costs 17 ms to import).
    import xml.etree.ElementTree as ET

    try:
        with open_maybe_gzip(path) as f:
            root = ET.parse(f).getroot()
    except ET.ParseError as e:
        line, col = e.position
        why = re.sub(r": line \d+, column \d+$", "", e.msg)
        raise BuildError(
            f"{path}:{line}: not a readable ICD-10-CM tabular XML file ({why} at column {col + 1}); "
            "pass the CDC file icd10cm-tabular-<date>.xml"
        ) from None
    except (OSError, EOFError, zlib.error) as e:  # a bad or truncated .gz copy, or an unreadable file
        raise BuildError(
            f"{path}: cannot read the ICD-10-CM file: {getattr(e, 'strerror', None) or e}"
        ) from None
    if root.tag != "ICD10CM.tabular":
        raise BuildError(
            f"{path}:1: expected the root element <ICD10CM.tabular> of the CDC tabular XML, "
            f"found <{root.tag}>"
        )
    nodes: list[_Node] = []
    seen: dict[str, int] = {}
    counters = {"chapter": 0, "section": 0, "diag": 0}

    def fail(tag: str, message: str) -> BuildError:
        line = element_line(path, tag, counters[tag])
        return BuildError(f"{path}:{line}: {message}")

    def add(node: _Node, tag: str, el: ET.Element) -> None:
        if node.key in seen:
            raise fail(
                tag, f"{node.key} appears twice (first as entry {seen[node.key]}); keys must be unique"
            )
        seen[node.key] = len(nodes) + 1
        _collect_notes(node, el)
        nodes.append(node)

    def diag(el: ET.Element, parent: _Node, seventh: _Seventh | None) -> tuple[_Node, list[ET.Element]]:
        """Adds the node of one <diag>; returns it and its child <diag>s. (Not a function that calls itself:
        that is a reference cycle, holding every node, which the build, running with the cyclic GC
        off, would never free.)"""
        counters["diag"] += 1
        name = desc = ""
        own: ET.Element | None = None
        children: list[ET.Element] = []
        for child in el:  # one pass: ElementPath lookups per tag cost more than the parse itself
            tag = child.tag
            if tag == "diag":
                children.append(child)
            elif tag == "name":
                name = clean(child.text)
            elif tag == "desc":
                desc = clean(child.text)
            elif tag == "sevenChrDef":
                own = child
        if not name or not desc:
            raise fail("diag", "<diag> without <name> or <desc>; every code needs both")
        node = _Node(name, desc, model.CODE, parent)
        node.seventh = _seventh(own, el, node) if own is not None else seventh
        node.has_children = bool(children)
        node.extensions = _extensions(node)
        add(node, "diag", el)
        return node, children

    def diags(el: ET.Element, block: _Node) -> None:
        """A <diag> of a block and everything below it, in document order."""
        todo: list[tuple[ET.Element, _Node, _Seventh | None]] = [(el, block, None)]
        while todo:
            el, parent, seventh = todo.pop()
            node, children = diag(el, parent, seventh)
            todo.extend((child, node, node.seventh) for child in reversed(children))

    for ch in root.iterfind("chapter"):
        counters["chapter"] += 1
        num, desc = clean(ch.findtext("name")), clean(ch.findtext("desc"))
        if not num or not desc:
            raise fail("chapter", "<chapter> without <name> or <desc>")
        chapter = _Node(f"chapter-{num}", desc, "chapter", None, label=f"Chapter {num}", has_children=True)
        add(chapter, "chapter", ch)
        for sec in ch.iterfind("section"):
            counters["section"] += 1
            sid, sdesc = clean(sec.get("id")), clean(sec.findtext("desc"))
            if not sid or not sdesc:
                raise fail("section", '<section> without an id="…" attribute or a <desc>')
            # A one-category block ("B10") would collide with its category's page: key it as a range.
            key = sid if "-" in sid else f"{sid}-{sid}"
            block = _Node(key, sdesc, "section", chapter, has_children=True)
            add(block, "section", sec)
            for el in sec.iterfind("diag"):
                diags(el, block)
    if not nodes:
        raise BuildError(f"{path}: no <chapter> found; is this the ICD-10-CM tabular XML?")
    return nodes, release_line(clean(root.findtext("version")), path)


def _collect_notes(node: _Node, el: ET.Element) -> None:
    # One pass over the children (ElementPath lookups per tag cost more than the whole parse).
    found: dict[str, list[str]] = {}
    for container in el:
        kind = _KIND_OF_TAG.get(container.tag)
        if kind is not None:
            texts = [t for t in (clean(n.text) for n in container if n.tag == "note") if t]
            if texts:
                found.setdefault(kind, []).extend(texts)
    # Page order is NOTE_KINDS order, whatever the order in the file.
    node.notes = {kind: found[kind] for _, kind, _ in NOTE_KINDS if kind in found} if found else {}


def _seventh(defn: ET.Element, el: ET.Element, owner: _Node) -> _Seventh:
    chars: list[tuple[str, str, list[str]]] = []
    for child in defn:
        if child.tag == "extension":
            chars.append((child.get("char", "").strip(), clean(child.text), []))
        elif child.tag == "note" and chars and clean(child.text):
            chars[-1][2].append(clean(child.text))  # an inclusion term of the extension above it
    note = " ".join(clean(n.text) for n in el.iterfind("sevenChrNote/note"))
    return _Seventh(owner, note, chars, {c: m for c, m, _ in chars})


# ---------------------------------------------------------------------------------------- records


class _Builder:
    """Turns parsed nodes into records; rendered note groups are cached per node and shared."""

    def __init__(self, linker: NoteLinker, source: str) -> None:
        self.linker = linker
        self.source = source
        self.codeset = linker.codeset
        # Premium sections are read on their own once unlocked (the gate's JSON, CasePilot): each names
        # its release, as the CMS data sections do. One string per distinct section body.
        self.cite = f'<p class="premium-source">Source: {escape(source)}</p>' if source else ""
        self._cited: dict[str, str] = {}

    def _cited_html(self, kind: str, html: str) -> str:
        if kind not in CITED or not self.cite:
            return html
        hit = self._cited.get(html)
        if hit is None:
            hit = self._cited[html] = html + self.cite
        return hit

    def record(self, node: _Node, order: int) -> model.CodeRecord:
        sections = self._note_sections(node, own=True)
        if node.seventh is not None:
            sections.append(self._seventh_section(node.seventh, node, ""))
        facts: list[tuple[str, str]] = []
        billable: bool | None = None
        if node.kind == model.CODE:
            billable = not node.has_children and node.seventh is None
            status = BILLABLE if billable else HEADER if node.has_children else NEEDS_SEVENTH
            facts.append(("Status", status))
        return model.CodeRecord(
            codeset=self.codeset,
            key=node.key,
            title=node.title,
            kind=node.kind,
            parent=node.parent.key if node.parent else None,
            order=order,
            billable=billable,
            label=node.label,
            facts=facts,
            sections=sections,
            source=self.source,
        )

    def extended(self, base: _Node, char: str, order: int) -> model.CodeRecord:
        seventh = base.seventh
        assert seventh is not None
        meaning = seventh.meanings[char]
        sections = self._note_sections(base, own=False)
        sections.append(self._seventh_section(seventh, base, char))
        return model.CodeRecord(
            codeset=self.codeset,
            key=_extended_key(base.key, char),
            title=f"{base.title}, {meaning}",
            parent=base.key,
            order=order,
            billable=True,
            facts=[("Status", BILLABLE), ("7th character", f"{char} — {meaning}")],
            sections=sections,
            source=self.source,
        )

    def _note_sections(self, node: _Node, *, own: bool) -> list[model.Section]:
        """The page's note sections: `node`'s own notes (if `own`) then those inherited from ancestors.

        With `own=False` the page is a child of `node` (an extended code), so `node` is an ancestor too.
        """
        ancestor = node.parent if own else node
        inherited = self._inherited(ancestor) if ancestor is not None else _EMPTY
        mine = node.notes if own else _EMPTY
        if not mine:
            # Shared strings for the many pages with no notes of their own: cheap for 98k records.
            return [
                model.Section(kind, kind, _TITLES[kind], self._cited_html(kind, h), t)
                for kind, (h, t) in inherited.items()
            ]
        sections: list[model.Section] = []
        for _, kind, title in NOTE_KINDS:
            own_notes = mine.get(kind)
            inh = inherited.get(kind)
            if own_notes:
                html = self.linker.items(own_notes)
                text = "\n".join(own_notes)
                if inh is not None:
                    html += inh[0]
                    text += "\n" + inh[1]
            elif inh is not None:
                html, text = inh
            else:
                continue
            sections.append(model.Section(kind, kind, title, self._cited_html(kind, html), text))
        return sections

    def _inherited(self, node: _Node) -> dict[str, tuple[str, str]]:
        """Notes of `node` and all its ancestors as descendants show them, nearest first, per kind."""
        if node.inherited is not None:
            return node.inherited
        up = self._inherited(node.parent) if node.parent is not None else _EMPTY
        result: dict[str, tuple[str, str]] = {}
        for _, kind, _ in NOTE_KINDS:
            mine = node.notes.get(kind)
            above = up.get(kind)
            if mine:
                head_html, head_text = self._from(node)
                html = head_html + self.linker.items(mine)
                text = head_text + "\n" + "\n".join(mine)
                if above is not None:
                    html += above[0]
                    text += "\n" + above[1]
                result[kind] = (html, text)
            elif above is not None:
                result[kind] = above
        node.inherited = result
        return result

    def _from(self, node: _Node) -> tuple[str, str]:
        shown = node.label or node.key
        title = escape(node.title)
        link = self.linker.link(node.key, shown)
        return f'<h3 class="from">From {link} — {title}</h3>', f"From {shown} — {node.title}"

    def _seventh_section(self, seventh: _Seventh, node: _Node, char: str) -> model.Section:
        """The 7th-character note and table; `char` is the one that applies on an extended code's page."""
        inherited = seventh.owner is not node or bool(char)
        cached = seventh.cache.get((char, inherited))
        if cached is None:
            parts: list[str] = []
            lines: list[str] = []
            if inherited:
                head_html, head_text = self._from(seventh.owner)
                parts.append(head_html)
                lines.append(head_text)
            if seventh.note:
                parts.append(f"<p>{self.linker.html(seventh.note)}</p>")
                lines.append(seventh.note)
            parts.append(
                '<table class="seventh"><thead><tr><th scope="col">Character</th>'
                '<th scope="col">Meaning</th></tr></thead><tbody>'
            )
            for c, meaning, extra in seventh.chars:
                cell = escape(meaning) + "".join(f"<br>{escape(x)}" for x in extra)
                if c == char:
                    parts.append(
                        f'<tr class="applies"><th scope="row">{escape(c)}</th>'
                        f"<td><strong>{cell}</strong> (this code)</td></tr>"
                    )
                    lines.append(f"{c}: {meaning} (this code)")
                else:
                    parts.append(f'<tr><th scope="row">{escape(c)}</th><td>{cell}</td></tr>')
                    lines.append(f"{c}: {meaning}")
            parts.append("</tbody></table>")
            cached = (self._cited_html(SEVENTH, "".join(parts)), "\n".join(lines))
            seventh.cache[(char, inherited)] = cached
        return model.Section(SEVENTH, SEVENTH, SEVENTH_TITLE, cached[0], cached[1])
