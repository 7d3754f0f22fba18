"""The job board's tables: the moderation queue of posts, and account roles (editors moderate it)."""

from __future__ import annotations

MIGRATION: list[str] = [
    # Roles are shared by the products (editor: the job board; consultant: the consult inbox).
    (
        "CREATE TABLE account_roles(account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
        " role TEXT NOT NULL, PRIMARY KEY (account_id, role))"
    ),
    # status: pending -> approved | rejected; approved -> expired. `fields` is the submitted form (JSON).
    (
        "CREATE TABLE job_posts(id {pk}, account_id BIGINT REFERENCES accounts(id) ON DELETE SET NULL,"
        " ip TEXT NOT NULL, status TEXT NOT NULL, created_at BIGINT NOT NULL, title TEXT NOT NULL,"
        " employer TEXT NOT NULL, fields TEXT NOT NULL, decided_at BIGINT, decided_by TEXT, reason TEXT,"
        " slug TEXT)"
    ),
    "CREATE INDEX job_posts_status ON job_posts(status, id)",
    "CREATE INDEX job_posts_account ON job_posts(account_id, created_at)",
    "CREATE INDEX job_posts_ip ON job_posts(ip, created_at)",
]
