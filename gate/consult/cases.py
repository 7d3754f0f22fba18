"""Cases and their messages in the gate database: opening (quota checked atomically), replies,
claims, the threads people see, and the figures of `coderef consult stats`."""

from __future__ import annotations

import calendar
import dataclasses
import json
import time
from dataclasses import dataclass
from typing import Any

from ..accounts import roles
from ..db import Conn

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
ASKER, AUTO, CONSULTANT = "asker", "auto", "consultant"
PENDING, DONE = "pending", "done"


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str
    content_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    account_id: int
    email: str  # the asker's address
    subject: str
    source: str
    status: str
    claimed_by: int | None
    claimed_by_email: str | None
    created_at: int
    first_response_at: int | None
    closed_at: int | None


@dataclass(frozen=True, slots=True)
class Entry:
    author: str
    author_email: str | None
    body: str
    attachments: list[Attachment]
    message_id: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Quota:
    allowed: int | None  # questions per period; None: unlimited
    used: int
    renews_at: int | None  # when a calendar period starts again (None for rolling periods)

    @property
    def left(self) -> int | None:
        return None if self.allowed is None else max(0, self.allowed - self.used)


def period_start(spec: str, now: float) -> tuple[int, int | None]:
    """(start of the current quota period, when the next starts or None) for "month" or "rolling:N"."""
    if spec.startswith("rolling:"):
        return int(now) - int(spec[8:]) * 86400, None
    t = time.gmtime(now)
    start = calendar.timegm((t.tm_year, t.tm_mon, 1, 0, 0, 0))
    year, month = (t.tm_year + 1, 1) if t.tm_mon == 12 else (t.tm_year, t.tm_mon + 1)
    return start, calendar.timegm((year, month, 1, 0, 0, 0))


def quota(conn: Conn, account_id: int, allowed: int | None, spec: str, now: float) -> Quota:
    start, renews = period_start(spec, now)
    row = conn.one(
        "SELECT COUNT(*) FROM consult_cases WHERE account_id=? AND created_at>=?", (account_id, start)
    )
    return Quota(allowed, int(row[0]), renews)


def known_message(conn: Conn, message_id: str) -> int | None:
    """The case a stored message belongs to (a resent mail is recognised by its Message-ID)."""
    row = conn.one("SELECT case_id FROM consult_messages WHERE message_id=?", (message_id,))
    return None if row is None else int(row[0])


def add_ref(conn: Conn, case_id: int, message_id: str) -> None:
    """Remembers a Message-ID sent or received for the case (for threading replies)."""
    if conn.one("SELECT 1 FROM consult_refs WHERE message_id=?", (message_id,)) is None:
        conn.execute("INSERT INTO consult_refs(message_id, case_id) VALUES (?, ?)", (message_id, case_id))


def refs(conn: Conn, case_id: int) -> list[str]:
    return [r[0] for r in conn.all("SELECT message_id FROM consult_refs WHERE case_id=?", (case_id,))]


def cases_of_messages(conn: Conn, message_ids: list[str]) -> set[int]:
    ids = [m for m in message_ids if m][:50]
    if not ids:
        return set()
    marks = ",".join("?" * len(ids))
    return {
        int(r[0]) for r in conn.all(f"SELECT case_id FROM consult_refs WHERE message_id IN ({marks})", ids)
    }


def open_case(
    conn: Conn, account_id: int, allowed: int | None, spec: str, subject: str, source: str, now: float
) -> tuple[int | None, Quota]:
    """Opens a case unless the account's quota is spent; call inside a transaction.

    The account row is locked first (PostgreSQL; SQLite holds its write lock), so parallel
    questions of one account are counted one after the other.
    """
    conn.lock_row("accounts", "id", account_id)
    q = quota(conn, account_id, allowed, spec, now)
    if q.left is not None and q.left <= 0:
        return None, q
    row = conn.one(
        "INSERT INTO consult_cases(account_id, subject, source, status, auto_state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (account_id, subject[:300] or "(no subject)", source, OPEN, PENDING, int(now), int(now)),
    )
    return int(row[0]), Quota(allowed, q.used + 1, q.renews_at)


def add_message(
    conn: Conn,
    case_id: int,
    author: str,
    author_id: int | None,
    body: str,
    attachments: list[Attachment],
    message_id: str,
    now: float,
) -> None:
    conn.execute(
        "INSERT INTO consult_messages(case_id, author, author_id, body, attachments, message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            author,
            author_id,
            body,
            json.dumps([dataclasses.asdict(a) for a in attachments]),
            message_id,
            int(now),
        ),
    )
    add_ref(conn, case_id, message_id)


def asker_wrote(conn: Conn, case_id: int, now: float) -> None:
    """A follow-up from the asker puts the case back in the consultants' queue."""
    conn.execute(
        "UPDATE consult_cases SET status=?, closed_at=NULL, updated_at=? WHERE id=?",
        (OPEN, int(now), case_id),
    )


def consultant_replied(conn: Conn, case_id: int, consultant_id: int, now: float) -> None:
    conn.execute(
        "UPDATE consult_cases SET status=?, updated_at=?, first_response_at=COALESCE(first_response_at, ?),"
        " claimed_by=COALESCE(claimed_by, ?), claimed_at=COALESCE(claimed_at, ?) WHERE id=?",
        (ANSWERED, int(now), int(now), consultant_id, int(now), case_id),
    )


def claim(conn: Conn, case_id: int, consultant_id: int, now: float) -> bool:
    """Claims an unclaimed case (or confirms one's own claim); False when another consultant has it."""
    cur = conn.execute(
        "UPDATE consult_cases SET claimed_by=?, claimed_at=?, updated_at=? WHERE id=?"
        " AND (claimed_by IS NULL OR claimed_by=?)",
        (consultant_id, int(now), int(now), case_id, consultant_id),
    )
    return bool(cur.rowcount == 1)


def close(conn: Conn, case_id: int, now: float) -> None:
    conn.execute(
        "UPDATE consult_cases SET status=?, closed_at=?, updated_at=? WHERE id=?",
        (CLOSED, int(now), int(now), case_id),
    )


_CASE = (
    "SELECT c.id, c.account_id, a.email, c.subject, c.source, c.status, c.claimed_by, k.email, c.created_at,"
    " c.first_response_at, c.closed_at FROM consult_cases c JOIN accounts a ON a.id=c.account_id"
    " LEFT JOIN accounts k ON k.id=c.claimed_by"
)


def _case(r: Any) -> Case:
    return Case(
        int(r[0]),
        int(r[1]),
        r[2],
        r[3],
        r[4],
        r[5],
        None if r[6] is None else int(r[6]),
        r[7],
        int(r[8]),
        None if r[9] is None else int(r[9]),
        None if r[10] is None else int(r[10]),
    )


def get(conn: Conn, case_id: int) -> Case | None:
    row = conn.one(f"{_CASE} WHERE c.id=?", (case_id,))
    return None if row is None else _case(row)


def of_account(conn: Conn, account_id: int) -> list[Case]:
    return [_case(r) for r in conn.all(f"{_CASE} WHERE c.account_id=? ORDER BY c.id DESC", (account_id,))]


def queue(conn: Conn, include_closed: bool = False) -> list[Case]:
    """Cases for the consultants' inbox: open ones first (oldest first), then answered."""
    where = "" if include_closed else " WHERE c.status<>'closed'"
    rows = conn.all(f"{_CASE}{where} ORDER BY CASE c.status WHEN 'open' THEN 0 ELSE 1 END, c.created_at")
    return [_case(r) for r in rows]


def thread(conn: Conn, case_id: int) -> list[Entry]:
    rows = conn.all(
        "SELECT m.author, a.email, m.body, m.attachments, m.message_id, m.created_at FROM consult_messages m"
        " LEFT JOIN accounts a ON a.id=m.author_id WHERE m.case_id=? ORDER BY m.id",
        (case_id,),
    )
    return [
        Entry(r[0], r[1], r[2], [Attachment(**a) for a in json.loads(r[3])], r[4], int(r[5])) for r in rows
    ]


def message_ids(conn: Conn, case_id: int) -> list[str]:
    return [
        r[0]
        for r in conn.all("SELECT message_id FROM consult_messages WHERE case_id=? ORDER BY id", (case_id,))
    ]


def first_question(conn: Conn, case_id: int) -> str:
    row = conn.one(
        "SELECT body FROM consult_messages WHERE case_id=? AND author=? ORDER BY id LIMIT 1", (case_id, ASKER)
    )
    return "" if row is None else str(row[0])


# -- consultants ---------------------------------------------------------------------------------
def is_consultant(conn: Conn, account_id: int) -> bool:
    return roles.has(conn, account_id, CONSULTANT)


def consultants(conn: Conn) -> list[tuple[int, str]]:
    rows = conn.all(
        "SELECT a.id, a.email FROM accounts a JOIN account_roles r ON r.account_id=a.id WHERE r.role=?"
        " ORDER BY a.id",
        (CONSULTANT,),
    )
    return [(int(r[0]), r[1]) for r in rows]


# -- figures -------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Stats:
    by_status: dict[str, int]
    first_response: list[int]  # seconds from question to a consultant's first reply, per answered case
    per_consultant: dict[str, int]  # replies per consultant
    since: int


def stats(conn: Conn, since: int) -> Stats:
    by_status = {
        r[0]: int(r[1])
        for r in conn.all(
            "SELECT status, COUNT(*) FROM consult_cases WHERE created_at>=? GROUP BY status", (since,)
        )
    }
    first = [
        int(r[0])
        for r in conn.all(
            "SELECT first_response_at - created_at FROM consult_cases WHERE created_at>=?"
            " AND first_response_at IS NOT NULL ORDER BY 1",
            (since,),
        )
    ]
    per = {
        r[0]: int(r[1])
        for r in conn.all(
            "SELECT a.email, COUNT(*) FROM consult_messages m JOIN accounts a ON a.id=m.author_id"
            " JOIN consult_cases c ON c.id=m.case_id WHERE m.author=? AND c.created_at>=? GROUP BY a.email",
            (CONSULTANT, since),
        )
    }
    return Stats(by_status, first, per, since)
