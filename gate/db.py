"""The gate's database: SQLite (WAL, default) or PostgreSQL (psycopg 3), one schema, migrations on start.

SQL is written once with `?` placeholders; PostgreSQL gets them rewritten to `%s`.

SQLite calls run inline on the event loop (each takes microseconds; a thread hop would cost more)
with no busy wait: when another process holds the lock, the call is retried in a worker thread
that waits at most `wait` seconds (CODEREF_DB_WAIT), and then the request gets 503 + Retry-After. The loop
never waits for a lock, so static files and re-views (reads, which WAL never blocks) keep flowing.
PostgreSQL calls run in worker threads (as many as the pool has connections), each borrowing a
connection of a bounded pool (psycopg_pool); a pooled connection that died (a database restart)
is noticed on its first statement, the pool checked, and the call retried once.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from functools import lru_cache
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import anyio
import anyio.to_thread
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .billing import schema as billing_schema
from .consult import schema as consult_schema
from .jobs import schema as jobs_schema
from .mail import schema as mail_schema
from .selfservice import schema as selfservice_schema

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
        ("sqlite: INSERT INTO unlocks_v2 SELECT subject, period, codeset, code, guest_ip, unlocked_at"
         " FROM unlocks"),
        "sqlite: DROP TABLE unlocks",
        "sqlite: ALTER TABLE unlocks_v2 RENAME TO unlocks",
        "sqlite: CREATE INDEX unlocks_guest_ip ON unlocks(guest_ip, period) WHERE guest_ip IS NOT NULL",
    ],
    jobs_schema.MIGRATION,  # 3: account roles, the job board's moderation queue
    mail_schema.MIGRATION,  # 4: the mail outbox
    selfservice_schema.MIGRATION,  # 5: reset and verification tokens, verified addresses
    consult_schema.MIGRATION,  # 6: consult cases and messages
    billing_schema.MIGRATION,  # 7: Stripe events seen, subscriptions
    [  # 8: CasePilot questions asked per subject and allowance period (gate/assistant/asks.py)
        ("CREATE TABLE asks(subject TEXT NOT NULL, period TEXT NOT NULL, used INTEGER NOT NULL,"
         " PRIMARY KEY (subject, period))"),
    ],
]
_SQLITE_ONLY = "sqlite: "
SCHEMA_VERSION = len(MIGRATIONS)
_PG_MIGRATION_LOCK = 0x636F6465  # any constant: serialises migrations of instances starting together


class Unavailable(Exception):
    """The database cannot be reached or used right now (the gate answers 503 + Retry-After)."""


class Busy(Unavailable):
    """SQLite: another connection holds the lock (retried off the loop before it is a 503)."""


# Seconds a request may wait for the database (a SQLite lock, in a worker thread; a PostgreSQL
# connection of the pool), then 503 + Retry-After (`Database.wait`, CODEREF_DB_WAIT).
DB_WAIT = 5.0
_SQLITE_DOWN = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR",
                "SQLITE_FULL", "SQLITE_PROTOCOL", "SQLITE_PERM", "SQLITE_NOTADB", "SQLITE_CORRUPT")
_PG_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout)
_OUTAGES: tuple[type[BaseException], ...] = (sqlite3.DatabaseError, *_PG_ERRORS, OSError)
IntegrityErrors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)


def _sqlite_down(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(_SQLITE_DOWN)


def _busy(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))


class LoopLimiters:
    """A CapacityLimiter of `size` per running event loop (a limiter belongs to one loop; tests run
    one app under several)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def get(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        limiter = self._by_loop.get(loop)
        if limiter is None:
            limiter = self._by_loop[loop] = anyio.CapacityLimiter(self.size)
        return limiter


@lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


class Conn:
    """One connection with the few calls the gate needs."""

    __slots__ = ("lock_wait", "pg", "raw", "used", "writers")

    def __init__(self, raw: Any, pg: bool, writers: threading.RLock | None = None) -> None:
        self.raw = raw
        self.pg = pg
        self.used = False  # a statement succeeded on it (PostgreSQL: a retry could repeat work)
        self.writers = writers  # SQLite: the write transactions of this process, one at a time
        self.lock_wait = 0.0  # seconds this connection's thread may wait for `writers` (0: the loop)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self.pg:
            cur = self.raw.execute(_pg_sql(sql), params)
            self.used = True
            return cur
        return self.raw.execute(sql, params)

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.execute(sql, params).fetchone()

    def all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return list(self.execute(sql, params).fetchall())

    def try_write(self, sql: str, params: Sequence[Any] = ()) -> bool:
        """A write that may be skipped when SQLite is locked by another process (bookkeeping such
        as a session's last-seen time): False when skipped."""
        if self.pg:
            self.execute(sql, params)
            return True
        try:
            self.raw.execute(sql, params)
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return False
            raise
        return True

    @contextmanager
    def transaction(self) -> Iterator[Conn]:
        """A write transaction: SQLite takes the write lock up front (BEGIN IMMEDIATE)."""
        if self.pg:
            with self.raw.transaction():
                yield self
            return
        # Threads of this process (mail delivery, consult answers, requests retried off the loop)
        # queue on a mutex instead of in SQLite's busy handler, which polls with sleeps of up to
        # 100 ms and cut the write rate several times; the loop never waits for it (Busy: retried
        # in a worker thread, like a lock held by another process).
        writers = self.writers
        if writers is not None and not writers.acquire(timeout=self.lock_wait if self.lock_wait > 0 else 0):
            raise Busy("another thread of this process holds the SQLite write lock")
        try:
            self.raw.execute("BEGIN IMMEDIATE")
            try:
                yield self
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")
        finally:
            if writers is not None:
                writers.release()

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

    def __init__(self, url: str | None, sqlite_path: Path, pool_size: int = 4, wait: float = DB_WAIT) -> None:
        self.url = url
        self.pool_size = pool_size
        self.wait = wait  # seconds a request may wait for a lock or a pooled connection
        self.sqlite_path = sqlite_path
        self.pg = url is not None
        self._local = threading.local()
        self._pool: ConnectionPool | None = None
        self._lock = threading.Lock()
        self._writers = threading.RLock()  # SQLite write transactions of this process (Conn.transaction)
        self._migrated = False
        self._all: list[sqlite3.Connection] = []  # every SQLite connection opened, to close them on shutdown
        self._stop = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self._behind: list[tuple[str, Sequence[Any]]] = []
        self._limiters = LoopLimiters(pool_size if url is not None else 8)

    @property
    def engine(self) -> str:
        return "postgresql" if self.pg else "sqlite"

    # -- SQLite --------------------------------------------------------------------------------
    def _create_private(self) -> None:
        """The database file holds emails and password hashes: created readable by its owner only
        (SQLite gives its -wal and -shm files the same mode)."""
        self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with suppress(FileExistsError):
            os.close(os.open(self.sqlite_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))

    def _open_sqlite(self, busy_ms: int) -> sqlite3.Connection:
        self._create_private()
        raw = sqlite3.connect(
            self.sqlite_path, isolation_level=None, check_same_thread=False, timeout=busy_ms / 1000
        )
        raw.execute(f"PRAGMA busy_timeout={busy_ms}")
        try:
            _switch_to_wal(raw, busy_ms)
        except BaseException:
            raw.close()
            raise
        # WAL + NORMAL: durable across app crashes, no fsync per commit.
        raw.execute("PRAGMA synchronous=NORMAL")
        raw.execute("PRAGMA foreign_keys=ON")
        # Checkpoints (copying the WAL into the database, with an fsync) run in a background
        # thread, not inside a request's commit where they stall the event loop for tens of ms;
        # the large automatic threshold is only a backstop.
        raw.execute("PRAGMA wal_autocheckpoint=20000")
        with self._lock:
            self._all.append(raw)
            if self._checkpointer is None:
                self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint",
                                                      daemon=True)
                self._checkpointer.start()
        return raw

    def _checkpoint_loop(self) -> None:
        try:
            conn = sqlite3.connect(self.sqlite_path, isolation_level=None, check_same_thread=False, timeout=0)
        except sqlite3.Error:
            return
        with suppress(sqlite3.Error):
            while not self._stop.wait(1.0):
                with suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.close()

    def _sqlite_conn(self, busy_ms: int) -> Conn:
        """This thread's connection; the event loop's waits for no lock, worker threads up to `busy_ms`."""
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = Conn(self._open_sqlite(busy_ms), False, self._writers)
            self._local.busy_ms = busy_ms
        elif self._local.busy_ms != busy_ms:
            conn.raw.execute(f"PRAGMA busy_timeout={busy_ms}")
            self._local.busy_ms = busy_ms
        conn.lock_wait = busy_ms / 1000
        return conn

    # -- PostgreSQL ----------------------------------------------------------------------------
    def _pg_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None:
                assert self.url is not None
                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=self.pool_size, timeout=self.wait, max_idle=300,
                    kwargs={"autocommit": True, "connect_timeout": 5}, open=False, name="coderef-gate",
                )
                self._pool.open(wait=False)
            return self._pool

    @contextmanager
    def _pg_conn(self, wait: float) -> Iterator[Conn]:
        with self._pg_pool().connection(timeout=wait) as raw:
            yield Conn(raw, True)

    # -- calls ---------------------------------------------------------------------------------
    @contextmanager
    def connection(self, busy_ms: int = 0) -> Iterator[Conn]:
        """Borrows this thread's SQLite connection or a pooled PostgreSQL one, waiting at most
        `busy_ms` for a lock or a connection; maps outages to Unavailable (a locked SQLite
        database to Busy)."""
        try:
            with ExitStack() as stack:
                wait = busy_ms / 1000 if busy_ms else self.wait
                conn = stack.enter_context(self._pg_conn(wait)) if self.pg else self._sqlite_conn(busy_ms)
                if not self._migrated:
                    self._migrate(conn)
                yield conn
        except _OUTAGES as exc:
            outage = self._outage(exc)
            if outage is None:
                raise
            raise outage from exc

    def _outage(self, exc: BaseException) -> Unavailable | None:
        """What a driver error means to the gate: Unavailable (Busy for a locked SQLite database)
        when the database cannot be used right now; any other error is a bug, raised as it is."""
        if isinstance(exc, sqlite3.OperationalError):
            if _busy(exc):
                return Busy(f"SQLite database {self.sqlite_path} is locked by another connection")
            if _sqlite_down(exc) or "unable to open" in str(exc):
                return Unavailable(f"SQLite database {self.sqlite_path}: {exc}")
        elif isinstance(exc, sqlite3.DatabaseError):  # e.g. "file is not a database"
            if _sqlite_down(exc):
                return Unavailable(f"SQLite database {self.sqlite_path}: {exc}")
        elif isinstance(exc, _PG_ERRORS):
            return Unavailable(f"PostgreSQL: {type(exc).__name__}: {str(exc).strip()[:200]}")
        elif isinstance(exc, OSError):  # e.g. var/ not writable
            return Unavailable(f"gate database: {exc}")
        return None

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...], busy_ms: int) -> T:
        if not self.pg:
            # `connection()` inlined: a generator context manager and an ExitStack cost as much as
            # the statement of a re-view unlock, and every SQLite request comes through here.
            try:
                conn = self._sqlite_conn(busy_ms)
                if not self._migrated:
                    self._migrate(conn)
                return fn(conn, *args)
            except _OUTAGES as exc:
                outage = self._outage(exc)
                if outage is None:
                    raise
                raise outage from exc
        # Pooled connections that died while idle (a database restart) fail on their first
        # statement, before anything was done: the pool drops each one, and the call runs again
        # on the next (at most as many times as the pool holds connections, plus a new one).
        for attempt in range(self.pool_size + 1):
            pgc: Conn | None = None
            try:
                with self.connection(busy_ms) as pgc:
                    return fn(pgc, *args)
            except Unavailable as exc:
                cause = exc.__cause__
                dead = pgc is not None and not pgc.used and (pgc.raw.closed or pgc.raw.broken)
                if attempt == self.pool_size or not dead or not isinstance(cause, psycopg.OperationalError):
                    raise
        raise AssertionError("unreachable")

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Runs `fn(conn, *args, **kwargs)` here and now (CLI, tests; SQLite waits up to 10 s for a lock)."""
        return self.call_waiting(10.0, functools.partial(fn, **kwargs) if kwargs else fn, *args)

    def call_waiting(self, wait: float, fn: Callable[..., T], *args: Any) -> T:
        """`call` waiting at most `wait` seconds for a lock or a pooled connection."""
        wait_ms = int(wait * 1000)
        if self._behind:
            self.flush(wait_ms, retry=False)  # reads see the writes queued by write_behind
        return self._call(fn, args, wait_ms)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs `fn(conn, *args)`: inline for SQLite (off the loop when it is locked), in a worker
        thread for PostgreSQL; Unavailable when that takes longer than the bounded wait."""
        return await self._run(fn, args, True)

    async def run_behind(self, fn: Callable[..., T], *args: Any) -> T:
        """`run` without flushing queued writes first: for the unlock decision, which needs none
        of them (they are unlimited plans' records) and is the call they are batched across."""
        return await self._run(fn, args, False)

    async def _run(self, fn: Callable[..., T], args: tuple[Any, ...], flush: bool) -> T:
        if flush and self._behind:
            self.flush()  # reads see the writes queued by write_behind (SQLite, on this loop)
        if not self.pg:
            try:
                return self._call(fn, args, 0)
            except Busy:
                pass  # locked by another process: wait for it in a worker thread, not on the loop
        limiter = self._limiters.get()
        wait = self.wait
        try:
            with anyio.fail_after(wait + 1):
                # abandon_on_cancel: the answer (503) does not wait for a thread stuck in the driver.
                return await anyio.to_thread.run_sync(
                    self._call, fn, args, int(wait * 1000), limiter=limiter, abandon_on_cancel=True
                )
        except TimeoutError:
            raise Unavailable(f"the gate database did not answer within {wait:.0f} s") from None

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

    def flush(self, wait_ms: int = 0, retry: bool = True) -> None:
        """Commits the queued writes in one transaction (a no-op when none are queued). When the
        database is locked, they stay queued and the loop tries again a moment later (the loop
        never waits for the lock; `close` does, up to `wait_ms`)."""
        rows, self._behind = self._behind, []
        if not rows:
            return
        try:
            with self.connection(wait_ms) as conn, conn.transaction():
                for sql, params in rows:
                    conn.execute(sql, params)
        except Busy as exc:
            if not retry:
                log.error("gate: %d unlock records of unlimited plans were not saved: %s", len(rows), exc)
                return
            self._behind[:0] = rows  # first in, first written
            with suppress(RuntimeError):  # from a worker thread: the loop's next flush takes them
                asyncio.get_running_loop().call_later(0.005, self.flush)
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

    def report(self, exc: Unavailable) -> None:
        """Logs why the database was unavailable (the client only gets the 503)."""
        log.error("gate unavailable: %s", exc)

    def close(self) -> None:
        self.flush(10_000, retry=False)
        self._stop.set()
        with self._lock:
            for raw in self._all:
                with suppress(Exception):  # closing on shutdown: nothing left to report to
                    raw.close()
            self._all.clear()
            pool, self._pool = self._pool, None
            self._local = threading.local()
        if pool is not None:
            pool.close()


def _switch_to_wal(raw: sqlite3.Connection, busy_ms: int) -> None:
    """Puts a new database in WAL mode (a setting kept in the file: later connections find it set).

    Switching needs the database to itself, and SQLite answers "database is locked" at once, without
    its busy handler, when another connection is using it, e.g. two threads opening a new database
    together: the switch is tried again, re-reading the mode (the other may have set it), for up to
    `busy_ms` before the error is raised (a 503 for the request, as any busy database).
    """
    deadline = time.monotonic() + busy_ms / 1000
    delay = 0.002
    while raw.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            raw.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

