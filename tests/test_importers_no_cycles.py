"""The book importers' XML reading leaves no reference cycle behind: the build runs with the cyclic
GC off (build.py), so what a parse left in a cycle (there: the whole XML tree of a book file) stayed
in memory until the build ended, and the render workers copied it."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.importers.bulk import gc_paused
from generator.importers.icd10cm_index import _title_parts
from generator.importers.xmltree import document

BOOKS = Path(__file__).resolve().parent / "data" / "books"


@pytest.fixture()
def gc_off() -> Iterator[None]:
    with gc_paused():  # as a build runs
        gc.collect()
        yield


def test_a_parsed_tree_and_its_titles_are_freed_without_the_cyclic_gc(gc_off: None) -> None:
    root = document(BOOKS / "icd10cm_index_2025.xml", "ICD10CM.index", "ICD-10-CM index XML", "")
    titles = [_title_parts(t) for t in _titles(root)]
    assert titles and any(nemod for _, nemod, _ in titles)  # titles with nonessential modifiers too
    del root
    assert gc.collect() == 0  # nothing was left in a cycle: everything went when its last reference did


def _titles(node: object) -> Iterator[object]:
    for child in node.children:  # type: ignore[attr-defined]
        if child.tag == "title":
            yield child
        yield from _titles(child)
