"""Account rows: create, find, change plan or password, list, delete."""
from __future__ import annotations

from dataclasses import dataclass

from ..db import Conn
from . import sessions


@dataclass(frozen=True, slots=True)
class AccountRow:
    id: int
    email: str
    plan: str
    password_hash: str
    created_at: int


def find(conn: Conn, email: str) -> AccountRow | None:
    row = conn.one("SELECT id, email, plan, password_hash, created_at FROM accounts WHERE email=?", (email,))
    return None if row is None else AccountRow(int(row[0]), row[1], row[2], row[3], int(row[4]))


def get(conn: Conn, account_id: int) -> AccountRow | None:
    row = conn.one(
        "SELECT id, email, plan, password_hash, created_at FROM accounts WHERE id=?", (account_id,)
    )
    return None if row is None else AccountRow(int(row[0]), row[1], row[2], row[3], int(row[4]))


def create(conn: Conn, email: str, password_hash: str, plan: str, now: int) -> int:
    """Inserts the account; raises one of db.IntegrityErrors when the email is taken."""
    row = conn.one(
        "INSERT INTO accounts(email, password_hash, plan, created_at) VALUES (?, ?, ?, ?) RETURNING id",
        (email, password_hash, plan, now),
    )
    return int(row[0])


def set_plan(conn: Conn, email: str, plan: str) -> bool:
    return bool(conn.execute("UPDATE accounts SET plan=? WHERE email=?", (plan, email)).rowcount > 0)


def set_password_hash(conn: Conn, account_id: int, password_hash: str) -> None:
    conn.execute("UPDATE accounts SET password_hash=? WHERE id=?", (password_hash, account_id))


def listing(conn: Conn) -> list[tuple[str, str, int]]:
    return [
        (r[0], r[1], int(r[2]))
        for r in conn.all("SELECT email, plan, created_at FROM accounts ORDER BY email")
    ]


def delete(conn: Conn, email: str) -> bool:
    with conn.transaction():
        row = find(conn, email)
        if row is None:
            return False
        delete_rows(conn, row.id)
    return True


def delete_rows(conn: Conn, account_id: int) -> None:
    """Removes the account and what is kept for it (inside the caller's transaction)."""
    sessions.delete_all(conn, account_id)
    conn.execute("DELETE FROM unlocks WHERE subject=?", (f"a:{account_id}",))
    conn.execute("DELETE FROM account_tokens WHERE account_id=?", (account_id,))
    conn.execute("DELETE FROM billing_subscriptions WHERE account_id=?", (account_id,))
    own_cases = "SELECT id FROM consult_cases WHERE account_id=?"
    conn.execute(f"DELETE FROM consult_refs WHERE case_id IN ({own_cases})", (account_id,))
    conn.execute(f"DELETE FROM consult_messages WHERE case_id IN ({own_cases})", (account_id,))
    conn.execute("DELETE FROM consult_cases WHERE account_id=?", (account_id,))
    conn.execute("UPDATE consult_cases SET claimed_by=NULL WHERE claimed_by=?", (account_id,))
    conn.execute("UPDATE consult_messages SET author_id=NULL WHERE author_id=?", (account_id,))
    conn.execute("DELETE FROM accounts WHERE id=?", (account_id,))


def mark_verified(conn: Conn, account_id: int, now: int) -> None:
    conn.execute(
        "UPDATE accounts SET email_verified_at=? WHERE id=? AND email_verified_at IS NULL", (now, account_id)
    )


def is_verified(conn: Conn, account_id: int) -> bool:
    row = conn.one("SELECT email_verified_at FROM accounts WHERE id=?", (account_id,))
    return row is not None and row[0] is not None
