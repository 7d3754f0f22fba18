"""How text becomes search tokens. search.js (`tokens`, `stem`) follows the same rules; a browser test
drives the same words through both and compares.

Lower case, accents folded, apostrophes dropped ("Crohn's" -> "crohns"), split on anything that is not
a letter or digit, a light English stem (see `stem`), stop words left out. Multi-word synonyms become
one token joined by "_" ("heart_attack").
"""

from __future__ import annotations

import functools
import re
import unicodedata

STOP = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to", "with"})
SHORT = 3  # query tokens this short match whole words only: "uti" never finds "utility"
_SPLIT = re.compile(r"[^0-9a-z_]+")
_APOS = re.compile(r"['\u2019]")
# Endings that are not plural "s": "abscess", "arthritis", "fetus", "nervous", "pancreas", "herpes"…
_KEEP_S = ("ss", "is", "us", "as", "os")
_SUFFIXES = ("ion", "ive", "ing", "ed")


def fold(text: str) -> str:
    """Lower case without accents or apostrophes."""
    text = _APOS.sub("", text.lower())
    if text.isascii():
        return text
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def stem(word: str) -> str:
    """A light English stem, the same for a word's common forms: plurals ("fractures" -> "fracture",
    "injuries" -> "injury", "abscesses" -> "abscess"), then -ion/-ive/-ing/-ed and a final -e
    ("dislocation", "dislocated" -> "dislocat"; "infection", "infected", "infective" -> "infect";
    "fracture", "fractured" -> "fractur"). Short words, numbers and a stem under four letters stay."""
    n = len(word)
    if n <= SHORT or word.isdigit():
        return word
    if word.endswith("s"):
        if word.endswith("ies") and n > 4:
            word = word[:-3] + "y"
        elif word.endswith(("sses", "xes", "ches", "shes", "zes")):
            word = word[:-2]
        elif not word.endswith(_KEEP_S):
            word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


# Stems of the words seen so far: a code set's texts use some tens of thousands of distinct words,
# each hundreds of times.
_STEMS: dict[str, str] = {}


def words(text: str) -> list[str]:
    """Every word of `text`, folded and stemmed, stop words included (in order)."""
    stems = _STEMS
    out = []
    for w in _SPLIT.split(fold(text)):
        if w:
            s = stems.get(w)
            if s is None:
                s = stems[w] = stem(w)
            out.append(s)
    return out


def tokens(text: str) -> list[str]:
    """The words of `text` that are searched: without stop words."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=1 << 17)
def _tokens(text: str) -> tuple[str, ...]:
    # Titles and index terms repeat a lot ("unspecified", "with", a category's words on all its codes).
    return tuple(w for w in words(text) if w not in STOP)
