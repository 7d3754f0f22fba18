"""The gate's database: SQLite (WAL, default) or PostgreSQL (psycopg 3), one schema, migrations on start.

SQL is written once with `?` placeholders; PostgreSQL gets them rewritten to `%s`.
SQLite calls run inline on the event loop (each takes microseconds; a thread hop would cost more);
PostgreSQL calls run in worker threads, each borrowing a pooled connection.
"""
from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio.to_thread

log = logging.getLogger("coderef.gate")
P = ParamSpec("P")
T = TypeVar("T")

MIGRATIONS: list[list[str]] = [
    [  # 1: accounts, sessions, guests, unlocks, rate-limit events
        ("CREATE TABLE accounts(id {pk}, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
         " plan TEXT NOT NULL, created_at BIGINT NOT NULL)"),
        ("CREATE TABLE sessions(id TEXT PRIMARY KEY,"
         " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
         " created_at BIGINT NOT NULL, seen_at BIGINT NOT NULL)"),
        "CREATE INDEX sessions_account ON sessions(account_id)",
        "CREATE TABLE guests(id TEXT PRIMARY KEY, created_at BIGINT NOT NULL)",
        # subject is 'a:<account id>' or 'g:<guest id>'; guest_ip is set on guest rows only (IP cap).
        ("CREATE TABLE unlocks(subject TEXT NOT NULL, period TEXT NOT NULL, codeset TEXT NOT NULL,"
         " code TEXT NOT NULL, guest_ip TEXT, unlocked_at BIGINT NOT NULL,"
         " PRIMARY KEY (subject, period, codeset, code))"),
        "CREATE INDEX unlocks_guest_ip ON unlocks(guest_ip, period) WHERE guest_ip IS NOT NULL",
        "CREATE TABLE events(key TEXT NOT NULL, at BIGINT NOT NULL)",
        "CREATE INDEX events_key ON events(key, at)",
    ],
    [  # 2: SQLite keeps unlocks in their primary-key b-tree (WITHOUT ROWID): an unlock writes one
       # b-tree page instead of two. PostgreSQL has no such table kind and needs nothing.
        ("sqlite: CREATE TABLE unlocks_v2(subject TEXT NOT NULL, period TEXT NOT NULL, codeset TEXT NOT NULL,"
         " code TEXT NOT NULL, guest_ip TEXT, unlocked_at BIGINT NOT NULL,"
         " PRIMARY KEY (subject, period, codeset, code)) WITHOUT ROWID"),
        "sqlite: INSERT INTO unlocks_v2 SELECT subject, period, codeset, code, guest_ip, unlocked_at FROM unlocks",
        "sqlite: DROP TABLE unlocks",
        "sqlite: ALTER TABLE unlocks_v2 RENAME TO unlocks",
        "sqlite: CREATE INDEX unlocks_guest_ip ON unlocks(guest_ip, period) WHERE guest_ip IS NOT NULL",
    ],
    [  # 3: CasePilot questions asked per subject and allowance period (gate/assistant/asks.py)
        "CREATE TABLE asks(subject TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (subject, period))",
    ],
]
_SQLITE_ONLY = "sqlite: "
SCHEMA_VERSION = len(MIGRATIONS)
_PG_MIGRATION_LOCK = 0x636F6465  # any constant: serialises migrations of instances starting together


class Unavailable(Exception):
    """The database cannot be reached or used right now (the gate answers 503)."""


try:  # psycopg is a dependency, but the gate must still import where only SQLite is used
    import psycopg

    _PG_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
    IntegrityErrors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)
except ImportError:  # pragma: no cover
    psycopg = None  # type: ignore[assignment]
    _PG_ERRORS = ()
    IntegrityErrors = (sqlite3.IntegrityError,)


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class Conn:
    """One connection with the few calls the gate needs."""

    def __init__(self, raw: Any, pg: bool) -> None:
        self.raw = raw
        self.pg = pg

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(_pg_sql(sql) if self.pg else sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A write transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE)."""
        if self.pg:
            with self.raw.transaction():
                yield self
            return
        self.raw.execute("BEGIN IMMEDIATE")
        try:
            yield self
        except BaseException:
            self.raw.execute("ROLLBACK")
            raise
        self.raw.execute("COMMIT")

    def lock_row(self, table: str, key_column: str, key: Any) -> None:
        """PostgreSQL row lock held to the end of the transaction (SQLite already holds the write lock)."""
        if self.pg:
            self.execute(f"SELECT 1 FROM {table} WHERE {key_column}=? FOR UPDATE", (key,))

    def lock_key(self, key: str) -> None:
        """PostgreSQL transaction lock on an arbitrary string (e.g. a client IP)."""
        if self.pg:
            self.execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (key,))


class Database:
    """Connections for the engine chosen by `url` (PostgreSQL) or `sqlite_path`."""

    def __init__(self, url: str | None, sqlite_path: Path) -> None:
        self.url = url
        self.sqlite_path = sqlite_path
        self.pg = url is not None
        self._local = threading.local()
        self._pool: list[Any] = []
        self._lock = threading.Lock()
        self._migrated = False
        self._all: list[Any] = []  # every connection opened, to close them on shutdown
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._behind: list[tuple[str, Sequence[Any]]] = []

    @property
    def engine(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    def _open_sqlite(self) -> sqlite3.Connection:
        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        raw = sqlite3.connect(self.sqlite_path, isolation_level=None, check_same_thread=False, timeout=10)
        raw.execute("PRAGMA busy_timeout=10000")
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across app crashes, no fsync per commit
        raw.execute("PRAGMA foreign_keys=ON")
        # Checkpoints (copying the WAL into the database, with an fsync) run in a background
        # thread, not inside a request's commit where they stall the event loop for tens of ms;
        # the large automatic threshold is only a backstop.
        raw.execute("PRAGMA wal_autocheckpoint=20000")
        if self._checkpointer is None:
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint", daemon=True)
            self._checkpointer.start()
        return raw

    def _checkpoint_loop(self) -> None:
        try:
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None, check_same_thread=False, timeout=1)
        except sqlite3.Error:
            return
        with suppress(sqlite3.Error):
            while not self._stop.wait(1.0):
                with suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.close()

    def _open_pg(self) -> Any:
        assert psycopg is not None and self.url is not None
        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    @contextmanager
    def connection(self) -> Iterator[Conn]:
        """Borrows this thread's SQLite connection or a pooled PostgreSQL one; maps outages to Unavailable."""
        try:
            if not self.pg:
                conn = getattr(self._local, "conn", None)
                if conn is None:
                    conn = self._local.conn = Conn(self._open_sqlite(), False)
                    with self._lock:
                        self._all.append(conn.raw)
                if not self._migrated:
                    self._migrate(conn)
                yield conn
                return
            with self._lock:
                raw = self._pool.pop() if self._pool else None
            if raw is None:
                raw = self._open_pg()
            conn = Conn(raw, True)
            ok = False
            try:
                if not self._migrated:
                    self._migrate(conn)
                yield conn
                ok = not raw.closed and raw.info.transaction_status == 0  # idle, not broken
            finally:
                if ok:
                    with self._lock:
                        if len(self._pool) < 64:
                            self._pool.append(raw)
                            raw = None
                if raw is not None:
                    raw.close()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "unable to open" in str(exc) or "disk" in str(exc):
                raise Unavailable(f"SQLite database {self.sqlite_path}: {exc}") from exc
            raise
        except _PG_ERRORS as exc:
            raise Unavailable(f"PostgreSQL: {type(exc).__name__}") from exc
        except OSError as exc:  # e.g. var/ not writable
            raise Unavailable(f"gate database: {exc}") from exc

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self._behind:
            self.flush()  # reads see the writes queued by write_behind
        with self.connection() as conn:
            return fn(conn, *args, **kwargs)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs `fn(conn, *args)`: inline for SQLite, in a worker thread for PostgreSQL."""
        if not self.pg:
            return self.call(fn, *args)
        return await anyio.to_thread.run_sync(self.call, fn, *args)

    async def run_behind(self, fn: Callable[..., T], *args: Any) -> T:
        """`run` without flushing queued writes first: for the unlock decision, which needs none
        of them (they are unlimited plans' records) and is the call they are batched across."""
        if not self.pg:
            with self.connection() as conn:
                return fn(conn, *args)
        return await anyio.to_thread.run_sync(self.call, fn, *args)

    # -- write-behind --------------------------------------------------------------------------
    def write_behind(self, sql: str, params: Sequence[Any]) -> bool:
        """Queues an idempotent SQLite write, committed with the others of this event-loop turn.

        For writes that no answer waits for (an unlimited plan's unlock record): one commit per
        loop turn instead of one per request. Returns False, and queues nothing, on PostgreSQL or
        outside an event loop: the caller writes directly.
        """
        if self.pg:
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        self._behind.append((sql, params))
        if len(self._behind) == 1:
            loop.call_soon(self.flush)
        return True

    def flush(self) -> None:
        """Commits the queued writes in one transaction (a no-op when none are queued)."""
        rows, self._behind = self._behind, []
        if not rows:
            return
        try:
            with self.connection() as conn, conn.transaction():
                for sql, params in rows:
                    conn.execute(sql, params)
        except (Unavailable, sqlite3.Error) as exc:  # nothing to answer to: the requests are done
            log.error("gate: %d unlock records of unlimited plans were not saved: %s", len(rows), exc)

    def _migrate(self, conn: Conn) -> None:
        with self._lock:
            if self._migrated:
                return
            pk = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" if conn.pg else "INTEGER PRIMARY KEY"
            with conn.transaction():
                if conn.pg:
                    conn.execute("SELECT pg_advisory_xact_lock(?)", (_PG_MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)")
                row = conn.one("SELECT MAX(version) FROM schema_version")
                current = int(row[0] or 0)
                if current > SCHEMA_VERSION:
                    raise Unavailable(
                        f"the gate database is at schema version {current}, newer than this code "
                        f"({SCHEMA_VERSION}): upgrade coderef"
                    )
                for version in range(current + 1, SCHEMA_VERSION + 1):
                    for statement in MIGRATIONS[version - 1]:
                        if statement.startswith(_SQLITE_ONLY):
                            if conn.pg:
                                continue
                            statement = statement[len(_SQLITE_ONLY):]
                        conn.execute(statement.replace("{pk}", pk))
                    conn.execute("INSERT INTO schema_version(version) VALUES (?)", (version,))
            self._migrated = True

    def close(self) -> None:
        self.flush()
        self._stop.set()
        with self._lock:
            for raw in self._all + self._pool:
                with suppress(Exception):  # closing on shutdown: nothing left to report to
                    raw.close()
            self._all.clear()
            self._pool.clear()
            self._local = threading.local()
