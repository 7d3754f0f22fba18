"""The protected store: deduplicated section texts, the gate's reader and its cache of hot codes."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from generator.store import Packer, StoreReader, StoreWriter


def test_identical_sections_are_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    w = StoreWriter(path, fresh=True)
    packer = Packer()
    w.add_many(("icd-10-cm", f"S72.00{i}A", "t", [packer("excludes1", "Excludes1", "<p>same</p>")]) for i in range(5))
    w.commit()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM sections").fetchone()[0] == 5
    assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1
    assert StoreReader(path).sections("icd-10-cm", "S72.003A")[0].html == "<p>same</p>"


def test_reader_cache_follows_fresh_and_in_place_builds(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    w = StoreWriter(path, fresh=True)
    w.replace_code("cpt", "27252", "t", [("tips", "Coding tips", "<p>one</p>")])
    w.commit()
    reader = StoreReader(path)
    assert json.loads(reader.sections_json("cpt", "27252")) == [{"id": "tips", "title": "Coding tips", "html": "<p>one</p>"}]
    w = StoreWriter(path, fresh=False)  # an incremental build changes the row in place
    w.replace_code("cpt", "27252", "t", [("tips", "Coding tips", "<p>two, longer</p>")])
    w.commit()
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>two, longer</p>"
    w = StoreWriter(path, fresh=True)  # a full build renames a new file in
    w.replace_code("cpt", "27252", "t", [("tips", "Coding tips", "<p>three</p>")])
    w.commit()
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>three</p>"
    assert reader.sections_json("cpt", "99999") == b"[]"
