"""Signed cookies (itsdangerous, key rotation) and server-side sessions with idle and absolute lifetimes."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, Signer

from ..db import Conn

SEEN_GRANULARITY = 60  # seconds: refresh seen_at at most once a minute, so reads stay reads


@dataclass(frozen=True, slots=True)
class Account:
    id: int
    email: str
    plan: str
    verified: bool = True  # the address was confirmed by a mailed link (see meter.require_verified_email)

    @property
    def subject(self) -> str:
        return f"a:{self.id}"


class _Signer(Signer):
    """itsdangerous Signer that derives each key once instead of on every request (hot path)."""

    _derived: dict[bytes, bytes]

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_key if secret_key is None else secret_key
        if isinstance(key, str):
            key = key.encode()
        cache: dict[bytes, bytes] = self.__dict__.setdefault("_derived", {})
        if key not in cache:
            cache[key] = bytes(super().derive_key(key))
        return cache[key]


class CookieSigner:
    """Signs with the first configured key; every configured key still verifies (rotation)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is needed")
        ordered = list(reversed(keys))  # itsdangerous signs with the last key of the list
        self._session = _Signer(ordered, salt="coderef.session", digest_method=hashlib.sha256)
        self._guest = _Signer(ordered, salt="coderef.guest", digest_method=hashlib.sha256)
        self._cache: dict[tuple[str, str], str] = {}

    def sign_session(self, sid: str) -> str:
        return self._session.sign(sid).decode("ascii")

    def sign_guest(self, gid: str) -> str:
        return self._guest.sign(gid).decode("ascii")

    def session_id(self, cookie: str | None) -> str | None:
        return self._verified(self._session, "s", cookie)

    def guest_id(self, cookie: str | None) -> str | None:
        return self._verified(self._guest, "g", cookie)

    # Verifying an HMAC costs more than the rest of a re-view unlock; a cookie that verified once
    # verifies again (the keys are fixed for the process), so good results are remembered.
    _VERIFIED_MAX = 50_000

    def _verified(self, signer: Signer, kind: str, cookie: str | None) -> str | None:
        cache = self._cache
        if cookie is not None:
            hit = cache.get((kind, cookie))
            if hit is not None:
                return hit
        value = _unsign(signer, cookie)
        if value is not None and cookie is not None:
            if len(cache) >= self._VERIFIED_MAX:
                cache.clear()
            cache[(kind, cookie)] = value
        return value


def _unsign(signer: Signer, cookie: str | None) -> str | None:
    # Anything odd (garbage, wrong key, non-ASCII) simply means "no such cookie".
    if not cookie or len(cookie) > 200:
        return None
    try:
        value = signer.unsign(cookie.encode("ascii")).decode("ascii")
    except (BadSignature, UnicodeError):
        return None
    return value if 20 <= len(value) <= 64 else None


def cookie_names(secure: bool) -> tuple[str, str]:
    """(session, guest) cookie names; `__Host-` pins them to this origin, path / and HTTPS."""
    prefix = "__Host-" if secure else ""
    return f"{prefix}coderef_session", f"{prefix}coderef_guest"


def new_id() -> str:
    return secrets.token_urlsafe(32)  # 256 random bits


@lru_cache(maxsize=4096)  # a browser sends the same session id on every request
def _key(sid: str) -> str:
    # Only a hash is stored: a leaked sessions table does not hand out live cookies.
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


def create(conn: Conn, account_id: int, now: int) -> str:
    sid = new_id()
    conn.execute(
        "INSERT INTO sessions(id, account_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
        (_key(sid), account_id, now, now),
    )
    return sid


_LOAD = (
    "SELECT a.id, a.email, a.plan, s.created_at, s.seen_at, a.email_verified_at{probe} FROM sessions s"
    " JOIN accounts a ON a.id = s.account_id WHERE s.id=?"
)
_LOAD_PLAIN = _LOAD.format(probe="")
# The unlock endpoint also asks whether the account has this code unlocked: one statement, not two.
_LOAD_PROBE = _LOAD.format(
    probe=", (SELECT u.unlocked_at FROM unlocks u WHERE u.subject = 'a:' || a.id"
          " AND u.period=? AND u.codeset=? AND u.code=?)"
)


def _live(conn: Conn, key: str, row: Any, now: int, idle: int, max_age: int) -> Account | None:
    if row is None:
        return None
    if now - row[3] > max_age or now - row[4] > idle:
        conn.try_write("DELETE FROM sessions WHERE id=?", (key,))  # housekeeping prunes it otherwise
        return None
    if now - row[4] >= SEEN_GRANULARITY:
        # Bookkeeping only: skipped while another process holds the lock, so reads stay reads.
        conn.try_write("UPDATE sessions SET seen_at=? WHERE id=?", (now, key))
    return Account(int(row[0]), row[1], row[2], row[5] is not None)


def load(conn: Conn, sid: str, now: int, idle: int, max_age: int) -> Account | None:
    """The session's account, or None when unknown or past its idle or absolute lifetime."""
    key = _key(sid)
    return _live(conn, key, conn.one(_LOAD_PLAIN, (key,)), now, idle, max_age)


def load_probing(
    conn: Conn, sid: str, now: int, idle: int, max_age: int, period_key: str, codeset: str, code: str,
) -> tuple[Account | None, int | None]:
    """`load`, plus when the account unlocked `code` in the period (None: not unlocked)."""
    key = _key(sid)
    row = conn.one(_LOAD_PROBE, (period_key, codeset, code, key))
    account = _live(conn, key, row, now, idle, max_age)
    return account, (None if account is None or row[6] is None else int(row[6]))


def delete(conn: Conn, sid: str) -> None:
    conn.execute("DELETE FROM sessions WHERE id=?", (_key(sid),))


def delete_all(conn: Conn, account_id: int) -> None:
    conn.execute("DELETE FROM sessions WHERE account_id=?", (account_id,))


@dataclass(frozen=True, slots=True)
class SessionInfo:
    created_at: int
    seen_at: int
    current: bool  # the session of the browser asking


def listing(conn: Conn, account_id: int, current_sid: str | None) -> list[SessionInfo]:
    """The account's sessions, most recently used first."""
    mine = _key(current_sid) if current_sid else ""
    rows = conn.all(
        "SELECT id, created_at, seen_at FROM sessions WHERE account_id=? ORDER BY seen_at DESC", (account_id,)
    )
    return [SessionInfo(int(r[1]), int(r[2]), r[0] == mine) for r in rows]


def delete_others(conn: Conn, account_id: int, keep_sid: str) -> int:
    """Ends every session of the account except `keep_sid`; returns how many ended."""
    cur = conn.execute("DELETE FROM sessions WHERE account_id=? AND id<>?", (account_id, _key(keep_sid)))
    return int(cur.rowcount)
