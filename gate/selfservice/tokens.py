"""Single-use, expiring tokens for links sent by mail; stored as SHA-256 hashes, spent atomically."""

from __future__ import annotations

import hashlib
import secrets

from ..db import Conn

RESET, VERIFY = "reset", "verify"
LIFETIMES = {RESET: 3600, VERIFY: 7 * 86400}  # seconds a link works


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue(conn: Conn, account_id: int, purpose: str, email: str, now: int) -> str:
    """A new token for `purpose`; the address it was sent to is kept (a changed address voids it)."""
    token = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO account_tokens(hash, account_id, purpose, email, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (_hash(token), account_id, purpose, email, now, now + LIFETIMES[purpose]),
    )
    return token


def peek(conn: Conn, token: str, purpose: str, now: int) -> int | None:
    """The account a still-usable token belongs to, without spending it (for showing a form)."""
    if not token or len(token) > 100:
        return None
    row = conn.one(
        "SELECT t.account_id FROM account_tokens t JOIN accounts a ON a.id=t.account_id"
        " WHERE t.hash=? AND t.purpose=? AND t.used_at IS NULL AND t.expires_at>? AND a.email=t.email",
        (_hash(token), purpose, now),
    )
    return None if row is None else int(row[0])


def spend(conn: Conn, token: str, purpose: str, now: int) -> int | None:
    """Marks the token used and returns its account, or None (unknown, used, expired, address changed).

    One UPDATE decides: two parallel uses of one link cannot both succeed.
    """
    account_id = peek(conn, token, purpose, now)
    if account_id is None:
        return None
    cur = conn.execute(
        "UPDATE account_tokens SET used_at=? WHERE hash=? AND used_at IS NULL AND expires_at>?",
        (now, _hash(token), now),
    )
    return account_id if cur.rowcount == 1 else None


def void(conn: Conn, account_id: int, purpose: str, now: int) -> None:
    """Ends every unused token of `purpose` (after a reset, the other reset links stop working)."""
    conn.execute(
        "UPDATE account_tokens SET used_at=? WHERE account_id=? AND purpose=? AND used_at IS NULL",
        (now, account_id, purpose),
    )


def prune(conn: Conn, now: int) -> None:
    conn.execute("DELETE FROM account_tokens WHERE expires_at<?", (now - 86400,))
