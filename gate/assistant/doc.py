"""An answer as data: paragraphs and lists of text and links, rendered to escaped HTML and plain text."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from generator.model import CODESET_NAMES
from generator.urls import page_path


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str


Part = str | Link
Line = list[Part]


@dataclass(frozen=True, slots=True)
class Citation:
    url: str
    title: str
    release: str

    def as_json(self) -> dict[str, str]:
        return {"url": self.url, "title": self.title, "release": self.release}


@dataclass
class Doc:
    """What one answer says: blocks of ("p", [line]) or ("ul", [lines]), and the sources it used."""

    blocks: list[tuple[str, list[Line]]] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    kind: str = "answer"  # "answer", "unknown" (I don't know), "ambiguous" (asks which code set), "no_code"

    def p(self, *parts: Part) -> Doc:
        self.blocks.append(("p", [list(parts)]))
        return self

    def ul(self, lines: list[Line]) -> Doc:
        if lines:
            self.blocks.append(("ul", lines))
        return self

    def cite(self, url: str, title: str, release: str = "") -> Link:
        c = Citation(url, title, release)
        if c not in self.citations:
            self.citations.append(c)
        return Link(title, url)

    def cite_code(self, codeset: str, key: str, title: str, release: str) -> Link:
        """Cites a code page and returns a link labelled with the code."""
        name = CODESET_NAMES.get(codeset, codeset)
        shown = f"{name} {key}" + (f" — {title}" if title else "")
        self.cite(page_path(codeset, key), shown, release)
        return Link(key, page_path(codeset, key))

    def extend(self, other: Doc) -> None:
        self.blocks.extend(other.blocks)
        for c in other.citations:
            if c not in self.citations:
                self.citations.append(c)

    def html(self) -> str:
        out = []
        for kind, lines in self.blocks:
            if kind == "p":
                out.append("<p>" + _html(lines[0]) + "</p>")
            else:
                out.append("<ul>" + "".join(f"<li>{_html(line)}</li>" for line in lines) + "</ul>")
        return "".join(out)

    def text(self) -> str:
        out = []
        for kind, lines in self.blocks:
            if kind == "p":
                out.append(_text(lines[0]))
            else:
                out.append("\n".join(f"- {_text(line)}" for line in lines))
        return "\n\n".join(out)


def _html(line: Line) -> str:
    return "".join(
        escape(p) if isinstance(p, str) else f'<a href="{escape(p.url)}">{escape(p.text)}</a>' for p in line
    )


def _text(line: Line) -> str:
    return "".join(p if isinstance(p, str) else p.text for p in line)
