"""The protected store: deduplicated section texts, the gate's reader and its cache of hot codes."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from generator.store import Packer, StoreWriter
from generator.store_reader import StoreReader


def write_tips(path: Path, html: str, *, fresh: bool = True) -> None:
    """A store whose CPT 27252 has one protected section, "Coding tips", holding `html`."""
    w = StoreWriter(path, fresh=fresh)
    w.replace_code("cpt", "27252", "t", [("tips", "Coding tips", html)])
    w.commit()


def test_identical_sections_are_stored_once(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    w = StoreWriter(path, fresh=True)
    packer = Packer()
    w.add_many(
        ("icd-10-cm", f"S72.00{i}A", "t", [packer("excludes1", "Excludes1", "<p>same</p>")]) for i in range(5)
    )
    w.commit()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM codes").fetchone()[0] == 5
    assert db.execute("SELECT COUNT(*) FROM lists").fetchone()[0] == 1  # one list, shared by the 5 codes
    assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 1
    assert StoreReader(path).sections("icd-10-cm", "S72.003A")[0].html == "<p>same</p>"


def test_packer_knows_a_text_by_its_value_not_its_object() -> None:
    pack = Packer()
    first = pack("tips", "Tips", "<p>" + "x" * 10 + "</p>")
    copy = pack("tips", "Tips", "".join(["<p>", "x" * 10, "</p>"]))  # an equal text, another object
    other = pack("tips", "Tips", "<p>y</p>")
    assert first[2] == copy[2] != other[2]
    assert first[3] is not None and copy[3] is None and other[3] is not None  # each text packed once


def test_lists_are_shared_only_when_equal_and_in_place_writes_reuse_texts(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    w = StoreWriter(path, fresh=True)
    packer = Packer()
    a, b = packer("excludes1", "Excludes1", "<p>a</p>"), packer("excludes2", "Excludes2", "<p>b</p>")
    a_again = packer("excludes1", "Excludes1", "<p>a</p>")  # packed before: sent without its text
    assert a_again[3] is None
    w.add_many([
        ("icd-10-cm", "A01.0", "t", [a, b]),
        ("icd-10-cm", "A01.1", "t", [a_again, b]),
        ("icd-10-cm", "A01.2", "t", [b, a]),  # same texts, other order: another list
        ("icd-10-cm", "A01.3", "t", []),
    ])
    w.commit()
    reader = StoreReader(path)
    assert [s.id for s in reader.sections("icd-10-cm", "A01.1")] == ["excludes1", "excludes2"]
    assert [s.id for s in reader.sections("icd-10-cm", "A01.2")] == ["excludes2", "excludes1"]
    assert reader.sections_json("icd-10-cm", "A01.3") == b"[]"
    assert reader.lookup_json("icd-10-cm", "A01.9") is None
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(DISTINCT list) FROM lists").fetchone()[0] == 2
    w = StoreWriter(path, fresh=False)  # an incremental build: new text, and one already stored
    w.replace_code(
        "icd-10-cm",
        "A01.3",
        "t",
        [("tips", "Coding tips", "<p>new</p>"), ("excludes2", "Excludes2", "<p>b</p>")],
    )
    w.commit()
    assert [(s.id, s.html) for s in reader.sections("icd-10-cm", "A01.3")] == [
        ("tips", "<p>new</p>"),
        ("excludes2", "<p>b</p>"),
    ]
    assert db.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == 3
    assert [s.html for s in reader.sections("icd-10-cm", "A01.0")] == ["<p>a</p>", "<p>b</p>"]


def test_stores_of_schema_3_are_still_read(tmp_path: Path) -> None:
    """A gate updated before the next build meets a store of the previous layout."""
    import zlib

    path = tmp_path / "p.sqlite"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE codes(codeset TEXT NOT NULL, key TEXT NOT NULL, title TEXT NOT NULL,
            PRIMARY KEY (codeset, key)) WITHOUT ROWID;
        CREATE TABLE sections(codeset TEXT NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL,
            id TEXT NOT NULL, title TEXT NOT NULL, hash BLOB NOT NULL,
            PRIMARY KEY (codeset, key, position)) WITHOUT ROWID;
        CREATE TABLE blobs(hash BLOB PRIMARY KEY, html BLOB NOT NULL);
        INSERT INTO meta VALUES ('schema', '3');
        INSERT INTO codes VALUES ('cpt', '27252', 't'), ('cpt', '27250', 't');
        """
    )
    db.execute("INSERT INTO sections VALUES ('cpt', '27252', 0, 'tips', 'Coding tips', x'01')")
    db.execute("INSERT INTO sections VALUES ('cpt', '27252', 1, 'mods', 'Modifiers', x'02')")
    db.execute("INSERT INTO blobs VALUES (x'01', ?)", (b"J" + json.dumps("<p>one</p>").encode(),))
    db.execute("INSERT INTO blobs VALUES (x'02', ?)", (zlib.compress(b"<p>two</p>"),))  # schema 2 text
    db.commit()
    reader = StoreReader(path)
    assert json.loads(reader.sections_json("cpt", "27252")) == [
        {"id": "tips", "title": "Coding tips", "html": "<p>one</p>"},
        {"id": "mods", "title": "Modifiers", "html": "<p>two</p>"},
    ]
    assert reader.sections_json("cpt", "27250") == b"[]"
    assert reader.lookup_json("cpt", "99999") is None


def test_reader_cache_follows_fresh_and_in_place_builds(tmp_path: Path) -> None:
    path = tmp_path / "p.sqlite"
    write_tips(path, "<p>one</p>")
    reader = StoreReader(path)
    assert json.loads(reader.sections_json("cpt", "27252")) == [
        {"id": "tips", "title": "Coding tips", "html": "<p>one</p>"}
    ]
    write_tips(path, "<p>two, longer</p>", fresh=False)  # an incremental build changes the row in place
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>two, longer</p>"
    write_tips(path, "<p>three</p>")  # a full build renames a new file in
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>three</p>"
    assert reader.sections_json("cpt", "99999") == b"[]"


def test_reads_of_one_loop_turn_share_a_transaction_that_ends_with_the_turn(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "p.sqlite"
    write_tips(path, "<p>one</p>")
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


def test_a_read_transaction_left_by_a_stopped_loop_is_ended_by_the_next_read(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "p.sqlite"
    write_tips(path, "<p>one</p>")
    reader = StoreReader(path)

    async def read_and_stop() -> None:
        reader.sections_json("cpt", "27252", keep=False)  # opens the turn's transaction; the loop ends next

    asyncio.run(read_and_stop())
    assert json.loads(reader.sections_json("cpt", "27252", keep=False))[0]["html"] == "<p>one</p>"
    db = sqlite3.connect(path, timeout=0, isolation_level=None)  # no lock may be left behind
    db.execute("UPDATE blobs SET html = ?", (b"J" + json.dumps("<p>two</p>").encode(),))
    db.close()
    assert json.loads(reader.sections_json("cpt", "27252", keep=False))[0]["html"] == "<p>two</p>"


def test_an_answer_read_from_a_replaced_store_is_not_cached(tmp_path: Path) -> None:
    """The gate reads, awaits its database (a thread hop on PostgreSQL), then caches: a build
    that brought a new store in meanwhile must not get the old answer cached."""
    path = tmp_path / "p.sqlite"
    write_tips(path, "<p>old</p>")
    reader = StoreReader(path)
    old = reader.lookup_json("cpt", "27252")
    assert old is not None
    read_from = reader.version
    write_tips(path, "<p>new</p>")  # a full build renames a new store in
    assert reader.lookup_json("cpt", "27252") != old  # another request sees the new store
    reader.remember("cpt", "27252", old, read_from)  # the first request finishes late
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>new</p>"
    reader.remember("cpt", "27252", reader.sections_json("cpt", "27252", keep=False), reader.version)
    assert json.loads(reader.sections_json("cpt", "27252"))[0]["html"] == "<p>new</p>"
