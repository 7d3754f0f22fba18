"""Account roles: what an account may do besides reading (editor: moderate the job board;
consultant: answer consult cases). Granted with `coderef accounts set-role EMAIL ROLE`."""

from __future__ import annotations

from ..db import Conn

ROLES: dict[str, str] = {
    "editor": "reviews job posts: approve, reject, expire",
    "consultant": "answers coding consult cases",
}


def has(conn: Conn, account_id: int, role: str) -> bool:
    return (
        conn.one("SELECT 1 FROM account_roles WHERE account_id=? AND role=?", (account_id, role)) is not None
    )


def of(conn: Conn, account_id: int) -> list[str]:
    return [
        r[0]
        for r in conn.all("SELECT role FROM account_roles WHERE account_id=? ORDER BY role", (account_id,))
    ]


def grant(conn: Conn, account_id: int, role: str) -> bool:
    """Gives `role`; False when the account had it already."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; roles: {', '.join(ROLES)}")
    cur = conn.execute(
        "INSERT INTO account_roles(account_id, role) VALUES (?, ?) ON CONFLICT DO NOTHING", (account_id, role)
    )
    return bool(cur.rowcount > 0)


def revoke(conn: Conn, account_id: int, role: str) -> bool:
    """Takes `role` away; False when the account did not have it."""
    return bool(
        conn.execute("DELETE FROM account_roles WHERE account_id=? AND role=?", (account_id, role)).rowcount
        > 0
    )
