"""The synonyms and abbreviations list (`content/search/synonyms.yml`), applied when the index is built.

Each key is what a coder types ("uti", "broken", "heart attack"); its value is the words the official
texts use (one phrase or a list of phrases). Every indexed phrase that contains all the words of one of
those phrases also answers to the key. A key of several words is one token ("heart_attack"): search.js
joins those words in a query the same way (the index's meta file lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import frontmatter
from ..errors import Problems
from .text import tokens

PATH = Path("content") / "search" / "synonyms.yml"


@dataclass(frozen=True, slots=True)
class Synonym:
    token: str  # the key as one token: "uti", "heart_attack"
    phrases: tuple[frozenset[str], ...]  # token sets of the phrases it stands for
    line: int


def key_token(key: str) -> str:
    return "_".join(tokens(key) or key.lower().split())


def load(root: Path, problems: Problems) -> list[Synonym]:
    """The list, or [] when the project has none; problems name `file:line`."""
    path = root / PATH
    if not path.exists():
        return []
    rel = str(PATH)
    try:
        doc = frontmatter.compose(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        problems.error(
            rel, exc.problem_mark.line + 1 if exc.problem_mark else 0, f"invalid YAML: {exc.problem}"
        )
        return []
    if doc is None:
        return []
    if not isinstance(doc, yaml.MappingNode):
        problems.error(rel, doc.start_mark.line + 1, "expected groups of `key: phrase` or `key: [phrases]`")
        return []
    out: dict[str, Synonym] = {}
    for group_key, group in doc.value:
        if not isinstance(group, yaml.MappingNode):
            problems.error(
                rel, group_key.start_mark.line + 1, f"'{group_key.value}' must map keys to phrases"
            )
            continue
        for knode, vnode in group.value:
            line = knode.start_mark.line + 1
            key = str(knode.value).strip()
            raw = frontmatter.value(vnode)
            phrases = [raw] if isinstance(raw, str) else raw
            if (
                not key
                or not isinstance(phrases, list)
                or not all(isinstance(p, str) and p.strip() for p in phrases)
            ):
                problems.error(rel, line, f"'{key}' needs a phrase or a list of phrases")
                continue
            token = key_token(key)
            sets = tuple(frozenset(tokens(p)) for p in phrases)
            if not token or not all(sets):
                problems.error(
                    rel,
                    line,
                    f"'{key}': a key and each phrase need at least one word that is not a stop word",
                )
                continue
            if token in out:
                problems.error(
                    rel, line, f"'{key}' is listed twice (first on line {out[token].line}); merge the phrases"
                )
                continue
            if any(s == frozenset({token}) for s in sets):
                problems.error(rel, line, f"'{key}' stands for itself")
                continue
            out[token] = Synonym(token, sets, line)
    return list(out.values())
