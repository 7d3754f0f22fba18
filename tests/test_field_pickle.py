"""Slotted dataclasses that the parse caches hold pickle by their field values (generator/field_pickle.py)."""
from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass, field

import pytest

from generator.books import IndexTerm
from generator.field_pickle import by_fields
from generator.model import CodeRecord, Section


def test_records_and_sections_round_trip_with_shared_objects_kept_shared() -> None:
    shared = Section("notes", "notes", "Notes", "<p>a</p>", "a", protected=True)
    recs = [
        CodeRecord("icd-10-cm", "E75.1", "Other gangliosidosis", parent="E75", order=7, billable=False,
                   facts=[("Status", "Header")],
                   sections=[shared, Section("x", "excludes1", "Excludes1", "")],
                   source="FY2025", change="new", change_label="New"),
        CodeRecord("icd-10-cm", "E75.2", "Other sphingolipidosis", sections=[shared]),
    ]
    back = pickle.loads(pickle.dumps(recs, protocol=pickle.HIGHEST_PROTOCOL))
    assert back == recs
    assert back[0].sections[0] is back[1].sections[0]  # the memo still shares what was shared
    assert type(back[0].sections[1]) is Section and back[0].sections[1].protected is None


def test_a_tree_of_index_terms_round_trips() -> None:
    leaf = IndexTerm("Leaf", 2, 3, codes=("A01.0",))
    root = IndexTerm("Root", 0, 1, nemod="(x)", children=[IndexTerm("Mid", 1, 2, children=[leaf])])
    back = pickle.loads(pickle.dumps(root))
    walked = [(t.title, t.level, t.line) for _, t in back.walk()]
    assert walked == [("Root", 0, 1), ("Mid", 1, 2), ("Leaf", 2, 3)]
    assert back.children[0].children[0].codes == ("A01.0",)
    assert back.printed == "Root (x)"
    assert copy.copy(root).children is root.children  # copy is still shallow


def test_a_field_outside_init_is_refused() -> None:
    @dataclass(slots=True)
    class Odd:
        a: int
        b: list[int] = field(default_factory=list, init=False)

    with pytest.raises(TypeError, match="Odd"):
        by_fields(Odd)


def test_a_one_field_class_round_trips() -> None:
    @by_fields
    @dataclass(slots=True)
    class One:
        a: tuple[int, ...]

    globals()["One"] = One  # pickle finds classes by module and name
    One.__qualname__ = "One"
    assert pickle.loads(pickle.dumps(One((1, 2)))) == One((1, 2))
