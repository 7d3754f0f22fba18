"""Cases and their messages (one gate database migration; consultants are the accounts with the
`consultant` role of gate/accounts/roles.py)."""

from __future__ import annotations

MIGRATION: list[str] = [
    # status: open (waits for a consultant), answered (a consultant replied), closed.
    # auto_state: pending until the automatic first answer is queued, then done.
    (
        "CREATE TABLE consult_cases(id {pk},"
        " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, subject TEXT NOT NULL,"
        " source TEXT NOT NULL, status TEXT NOT NULL, auto_state TEXT NOT NULL, auto_lease BIGINT "
        "NOT NULL DEFAULT 0,"
        " claimed_by BIGINT REFERENCES accounts(id) ON DELETE SET NULL, claimed_at BIGINT,"
        " first_response_at BIGINT, closed_at BIGINT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)"
    ),
    "CREATE INDEX consult_cases_account ON consult_cases(account_id, created_at)",
    "CREATE INDEX consult_cases_status ON consult_cases(status, created_at)",
    "CREATE INDEX consult_cases_auto ON consult_cases(auto_state, auto_lease)",
    # author: asker, auto (the automatic first answer), consultant. message_id: the mail's Message-ID
    # (received or sent); resent mail carries the same one, so it is stored once.
    (
        "CREATE TABLE consult_messages(id {pk},"
        " case_id BIGINT NOT NULL REFERENCES consult_cases(id) ON DELETE CASCADE, author TEXT NOT NULL,"
        " author_id BIGINT, body TEXT NOT NULL, attachments TEXT NOT NULL, message_id TEXT NOT NULL UNIQUE,"
        " created_at BIGINT NOT NULL)"
    ),
    "CREATE INDEX consult_messages_case ON consult_messages(case_id, id)",
    # Every Message-ID known for a case, received or sent: replies are threaded by it.
    (
        "CREATE TABLE consult_refs(message_id TEXT PRIMARY KEY,"
        " case_id BIGINT NOT NULL REFERENCES consult_cases(id) ON DELETE CASCADE)"
    ),
]
