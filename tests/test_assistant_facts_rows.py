"""The code rows of CasePilot's facts: note lists found by section identity, numbered as read."""

from __future__ import annotations

import json
import sqlite3
from types import SimpleNamespace
from typing import Any

from generator.assistant_facts import SCHEMA, _write_codes
from generator.history.sections import HISTORY
from generator.model import CodeRecord, Section


def _rows(db: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    return db.execute(sql).fetchall()


def test_note_lists_are_shared_by_object_and_by_text() -> None:
    excl = Section("excludes1", "excludes1", "Excludes1", "<p>x</p>", "not here")
    incl = Section("inclusion-terms", "inclusion-terms", "Inclusion", "<p>y</p>", "also called this")
    hist = Section(HISTORY, HISTORY, "History", "<p>New in <b>FY2026</b></p><p>Held &amp; kept</p>", "words")
    table = Section("pcs-table", "pcs-table", "Table", "<table></table>", "table words")  # not a note
    same_text = Section("excludes1", "excludes1", "Excludes1", "<p>x</p>", "not here")  # another object
    recs = [
        CodeRecord(codeset="icd-10-cm", key="A01.1", title="Beta", kind="code", billable=True, parent="A01",
                   sections=[excl, incl], facts=[("Chapter", "1"), ("Block", "A00-A09")]),
        CodeRecord(codeset="icd-10-cm", key="A01", title="Alpha", kind="code", billable=False,
                   sections=[table, hist], facts=[("Chapter", "1")]),
        CodeRecord(codeset="icd-10-cm", key="A01.0", title="Gamma", kind="code", billable=True, parent="A01",
                   sections=[excl, incl]),  # the same objects as A01.1: the same list
        CodeRecord(codeset="icd-10-cm", key="A01.2", title="Delta", kind="code", billable=True, parent="A01",
                   sections=[same_text, incl]),  # equal texts, other objects: the same list too
        CodeRecord(codeset="icd-10-cm", key="A01.9", title="", kind="code", sections=[table]),
        CodeRecord(codeset="icd-10-cm", key="chapter-1", title="Chapter", kind="chapter",
                   sections=[hist, excl]),
    ]
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    _write_codes(db, {"icd-10-cm": SimpleNamespace(records=recs)})  # type: ignore[dict-item]
    assert _rows(db, "SELECT id, text FROM texts ORDER BY id") == [
        (1, "not here"), (2, "also called this"), (3, "New in FY2026\nHeld & kept"),
    ]
    assert _rows(db, "SELECT list, position, kind, text FROM notes ORDER BY list, position") == [
        (1, 0, "excludes1", 1), (1, 1, "inclusion-terms", 2), (2, 0, HISTORY, 3),
        (3, 0, HISTORY, 3), (3, 1, "excludes1", 1),
    ]
    assert _rows(db, "SELECT key, bare, title, billable, parent, facts, notes FROM codes") == [  # key order
        ("A01", "A01", "Alpha", 0, None, json.dumps([("Chapter", "1")]), 2),
        ("A01.0", "A010", "Gamma", 1, "A01", "[]", 1),
        ("A01.1", "A011", "Beta", 1, "A01", json.dumps([("Chapter", "1"), ("Block", "A00-A09")]), 1),
        ("A01.2", "A012", "Delta", 1, "A01", "[]", 1),
        ("A01.9", "A019", "", None, None, "[]", 0),
        ("chapter-1", "CHAPTER-1", "Chapter", None, None, "[]", 3),
    ]
    assert _rows(db, "SELECT rowid, words, key FROM code_fts ORDER BY rowid") == [  # codes only, as read
        (1, "Beta  also called this", "A01.1"), (2, "Alpha", "A01"), (3, "Gamma  also called this", "A01.0"),
        (4, "Delta  also called this", "A01.2"),
    ]
