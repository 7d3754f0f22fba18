"""Migrations (schema_version) on SQLite and PostgreSQL, and outages reported as Unavailable."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from fixtures.gate.sitekit import pg_schema

from gate.db import SCHEMA_VERSION, Database, Unavailable


def _version(conn) -> int:  # type: ignore[no-untyped-def]
    return int(conn.one("SELECT MAX(version) FROM schema_version")[0])


def test_sqlite_migrates_once_in_wal(tmp_path: Path) -> None:
    for _ in range(2):
        db = Database(None, tmp_path / "g.sqlite")
        assert db.call(_version) == SCHEMA_VERSION
        assert db.call(lambda c: c.one("PRAGMA journal_mode")[0]) == "wal"
        assert db.call(lambda c: c.one("SELECT COUNT(*) FROM schema_version")[0]) == SCHEMA_VERSION
        db.close()


def test_threads_opening_a_new_database_together_all_get_in(tmp_path: Path) -> None:
    """Switching a new file to WAL needs it alone and SQLite refuses at once ("locked", no busy
    wait) while another connection uses it: threads of a fresh gate (a mail worker and a request)
    opening it together once got a 503. Each of them now waits its turn."""
    import threading

    for trial in range(40):
        db = Database(None, tmp_path / f"g{trial}.sqlite")
        errors: list[BaseException] = []
        start = threading.Barrier(16)

        def first_query(db: Database = db, errors: list[BaseException] = errors,
                        start: threading.Barrier = start) -> None:
            start.wait()
            try:
                assert db.call(lambda c: c.one("PRAGMA journal_mode")[0]) == "wal"
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=first_query) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        db.close()
        assert not errors, f"trial {trial}: {errors[0]!r}"


def test_sqlite_upgrade_keeps_unlocks(tmp_path: Path) -> None:
    """A database made by schema 1 (rowid unlocks) is moved to WITHOUT ROWID with its rows kept."""
    import sqlite3

    from gate.db import MIGRATIONS

    raw = sqlite3.connect(tmp_path / "g.sqlite", isolation_level=None)
    raw.execute("CREATE TABLE schema_version(version INTEGER NOT NULL)")
    for statement in MIGRATIONS[0]:
        raw.execute(statement.replace("{pk}", "INTEGER PRIMARY KEY"))
    raw.execute("INSERT INTO schema_version VALUES (1)")
    raw.execute("INSERT INTO unlocks VALUES ('g:x', '2026-11', 'cpt', '27252', '10.0.0.1', 5)")
    raw.close()
    db = Database(None, tmp_path / "g.sqlite")
    assert db.call(_version) == SCHEMA_VERSION
    assert db.call(lambda c: c.all("SELECT subject, code, guest_ip FROM unlocks")) == [
        ("g:x", "27252", "10.0.0.1")
    ]
    ddl = db.call(lambda c: c.one("SELECT sql FROM sqlite_master WHERE name='unlocks'")[0])
    assert "WITHOUT ROWID" in ddl
    assert (
        db.call(lambda c: c.one("SELECT COUNT(*) FROM sqlite_master WHERE name='unlocks_guest_ip'")[0]) == 1
    )
    db.close()


@pytest.mark.postgres
def test_postgres_migrates_once() -> None:
    with pg_schema() as url:
        for _ in range(2):
            db = Database(url, Path("unused"))
            assert db.call(_version) == SCHEMA_VERSION
            db.close()


def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/x?connect_timeout=1", tmp_path / "x", wait=1)
    t = time.perf_counter()
    with pytest.raises(Unavailable):
        asyncio.run(db.run(_version))  # a request's bounded wait (CODEREF_DB_WAIT), then Unavailable
    assert time.perf_counter() - t < 4
    db.close()
    (tmp_path / "ro").mkdir(mode=0o500)
    if __import__("os").geteuid() != 0:  # root ignores permissions
        with pytest.raises(Unavailable):
            Database(None, tmp_path / "ro" / "sub" / "g.sqlite").call(_version)
