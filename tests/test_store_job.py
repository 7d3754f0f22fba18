"""The store stage (generator/store_job.py): rows streamed in chunk by chunk, committed or aborted."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from generator.store import Packer, StoreRow, StoreWriter
from generator.store_job import StoreJob
from generator.store_reader import StoreReader

SHARED = "<p>" + "a note every code of the category repeats. " * 200 + "</p>"  # compressed (> 4 KiB)


def _rows(packer: Packer, keys: list[str]) -> list[StoreRow]:
    return [
        ("icd-10-cm", key, f"title {key}",
         [packer("notes", "Notes", SHARED), packer("own", "Own", f"<p>{key}</p>")])
        for key in keys
    ]


def _content(path: Path) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        q = ("SELECT c.codeset, c.key, c.title, l.position, l.id, l.title, b.hash FROM codes c"
             " LEFT JOIN lists l ON l.list = c.list LEFT JOIN blobs b ON b.id = l.blob"
             " ORDER BY c.codeset, c.key, l.position")
        return [*db.execute(q), *db.execute("SELECT * FROM free_pages"),
                *db.execute("SELECT * FROM meta WHERE key != 'schema'")]
    finally:
        db.close()


def test_rows_streamed_from_two_processes_make_the_store_written_in_one_go(tmp_path: Path) -> None:
    keys = [f"A0{n}" for n in range(10)]
    # Two render processes, each with its own packer: each sends a text once, before the rows
    # that only refer to it; their chunks arrive interleaved.
    one, two = Packer(), Packer()
    job = StoreJob(tmp_path / "streamed" / "protected.sqlite", {"built": "today"})
    for chunk in (_rows(one, keys[0:3]), _rows(two, keys[3:6]), _rows(one, keys[6:8]), _rows(two, keys[8:])):
        job.add(chunk)
    job.finish([("icd-10-cm", "A00")])
    assert not (tmp_path / "streamed" / "protected.sqlite").exists()  # not live before the commit point
    job.commit()

    plain = StoreWriter(tmp_path / "plain" / "protected.sqlite", fresh=True)
    plain.add_many(_rows(Packer(), keys))
    plain.mark_free([("icd-10-cm", "A00")])
    plain.set_meta("built", "today")
    plain.commit()
    streamed = _content(tmp_path / "streamed" / "protected.sqlite")
    assert streamed == _content(tmp_path / "plain" / "protected.sqlite")
    sections = StoreReader(tmp_path / "streamed" / "protected.sqlite").sections("icd-10-cm", "A07")
    assert [(s.id, s.html) for s in sections] == [("notes", SHARED), ("own", "<p>A07</p>")]


def test_an_aborted_store_leaves_the_live_one(tmp_path: Path) -> None:
    live = tmp_path / "protected.sqlite"
    live.write_bytes(b"the live store")
    job = StoreJob(live, {})
    job.add(_rows(Packer(), ["A00"]))
    with pytest.raises(RuntimeError, match="committed"):
        job.commit()  # before finish(): a bug, said at once
    job.abort()
    assert live.read_bytes() == b"the live store" and not StoreWriter.fresh_path(live).exists()
    with pytest.raises(RuntimeError, match="aborted store"):
        job.add(_rows(Packer(), ["A01"]))
