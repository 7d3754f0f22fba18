"""The outbox table (one gate database migration; appended to gate.db.MIGRATIONS)."""

from __future__ import annotations

# Times are milliseconds since the epoch: backoff and leases need finer steps than seconds.
MIGRATION: list[str] = [
    (
        "CREATE TABLE mail_outbox(id {pk}, message_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
        " sender TEXT NOT NULL, recipient TEXT NOT NULL, subject TEXT NOT NULL, raw TEXT NOT NULL,"
        " status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created_at BIGINT NOT NULL,"
        " next_at BIGINT NOT NULL, lease_until BIGINT NOT NULL DEFAULT 0, leased_by TEXT,"
        " sent_at BIGINT, last_error TEXT)"
    ),
    "CREATE INDEX mail_outbox_due ON mail_outbox(status, next_at)",
]
