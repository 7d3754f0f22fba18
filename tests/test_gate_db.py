"""Migrations (schema_version) on SQLite and PostgreSQL, and outages reported as Unavailable."""
from __future__ import annotations

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


@pytest.mark.postgres
def test_postgres_migrates_once() -> None:
    with pg_schema() as url:
        for _ in range(2):
            db = Database(url, Path("unused"))
            assert db.call(_version) == SCHEMA_VERSION
            db.close()


def test_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    db = Database("postgresql://postgres@127.0.0.1:1/x?connect_timeout=1", tmp_path / "x")
    with pytest.raises(Unavailable):
        db.call(_version)
    (tmp_path / "ro").mkdir(mode=0o500)
    if __import__("os").geteuid() != 0:  # root ignores permissions
        with pytest.raises(Unavailable):
            Database(None, tmp_path / "ro" / "sub" / "g.sqlite").call(_version)
