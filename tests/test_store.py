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


def test_reads_of_one_loop_turn_share_a_transaction_that_ends_with_the_turn(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "p.sqlite"
    w = StoreWriter(path, fresh=True)
    w.replace_code("cpt", "27252", "t", [("tips", "Coding tips", "<p>one</p>")])
    w.commit()
    reader = StoreReader(path)

    def write_now(html: str) -> None:
        """An in-place write that refuses to wait for a lock (the gate must not hold one idle)."""
        db = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            db.execute("UPDATE blobs SET html = ?", (b"J" + json.dumps(html).encode(),))
        finally:
            db.close()

    async def main() -> None:
        assert json.loads(reader.sections_json("cpt", "27252", keep=False))[0]["html"] == "<p>one</p>"
        try:  # within the turn, the read transaction holds the store still
            write_now("<p>too early</p>")
        except sqlite3.OperationalError as exc:
            assert "locked" in str(exc)
        else:
            raise AssertionError("a write went through during the reader's loop turn")
        await asyncio.sleep(0)  # the turn ends: so does the transaction
        write_now("<p>two</p>")
        assert json.loads(reader.sections_json("cpt", "27252", keep=False))[0]["html"] == "<p>two</p>"
        await asyncio.sleep(0.01)
        write_now("<p>three</p>")  # an idle gate holds no lock

    asyncio.run(main())
