"""Single-use account tokens and the verified-address mark (one gate database migration)."""

from __future__ import annotations

MIGRATION: list[str] = [
    # Only a hash of each token is stored: a leaked table hands out no working links.
    (
        "CREATE TABLE account_tokens(hash TEXT PRIMARY KEY,"
        " account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE, purpose TEXT NOT NULL,"
        " email TEXT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, used_at BIGINT)"
    ),
    "CREATE INDEX account_tokens_account ON account_tokens(account_id, purpose)",
    "ALTER TABLE accounts ADD COLUMN email_verified_at BIGINT",
]
