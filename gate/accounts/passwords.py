"""Password rules and argon2id hashing (OWASP floor or stronger, rehash when parameters change)."""
from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import anyio.to_thread
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..db import LoopLimiters

T = TypeVar("T")
MIN_BYTES = 8
MAX_BYTES = 1024

# The most common leaked passwords of 8+ characters; no composition rules (NIST SP 800-63B).
BLOCKLIST = frozenset([
    "password", "password1", "password12", "password123", "password1234", "passw0rd", "p@ssword", "p@ssw0rd",
    "12345678", "123456789", "1234567890", "12345678910", "123123123", "11111111", "00000000", "88888888",
    "87654321", "qwertyui", "qwertyuiop", "qwerty123", "qwerty12", "1q2w3e4r", "1q2w3e4r5t", "1qaz2wsx",
    "zaq12wsx", "iloveyou", "iloveyou1", "sunshine", "princess", "football", "baseball", "welcome",
    "welcome1", "abc12345", "abcd1234", "admin123", "administrator", "letmein1", "trustno1", "superman",
    "starwars", "whatever", "computer", "michelle", "jennifer", "corvette", "mercedes", "charlie1",
    "monkey123", "dragon123", "master123", "asdfghjk", "asdfasdf", "aaaaaaaa", "123qweasd", "qazwsxedc",
    "changeme", "changeme1", "default1", "secret123", "password!",
])

EMAIL_RE = re.compile(
    r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


def email_problem(email: str) -> str | None:
    """None when `email` (already normalised) looks deliverable, else the error code."""
    if len(email) > 254 or not EMAIL_RE.match(email) or ".." in email.split("@")[0]:
        return "invalid_email"
    return None


def normalise_password(raw: str) -> str:
    # NFKC so the same password typed on different keyboards/platforms hashes the same.
    return unicodedata.normalize("NFKC", raw)


def password_problem(password: str) -> str | None:
    """None for an acceptable new password, else the error code."""
    size = len(password.encode("utf-8"))
    if size < MIN_BYTES:
        return "password_too_short"
    if size > MAX_BYTES:
        return "password_too_long"
    if password.lower() in BLOCKLIST or len(set(password)) == 1:
        return "weak_password"
    return None


@lru_cache(maxsize=8)
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
        hash_len=32, salt_len=16, type=Type.ID,
    )


@lru_cache(maxsize=8)
def dummy_hash(ph: PasswordHasher) -> str:
    """A hash to verify against for unknown emails, so they cost what a wrong password costs."""
    return ph.hash("not a real password: timing equaliser")


def hash_password(ph: PasswordHasher, password: str) -> str:
    return ph.hash(password)


def verify_password(ph: PasswordHasher, stored: str | None, password: str) -> tuple[bool, str | None]:
    """(matches, new hash when the stored one used other parameters). `stored=None` burns the same time."""
    if stored is None:
        with contextlib.suppress(VerificationError):
            ph.verify(dummy_hash(ph), password)
        return False, None
    try:
        ph.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    return True, (ph.hash(password) if ph.check_needs_rehash(stored) else None)


_HASHING = LoopLimiters(os.cpu_count() or 1)


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Runs a hash or a verification in a worker thread, at most one per CPU at a time: each
    takes ~20 MiB and a CPU for tens of ms, so a burst queues here instead of starving the
    database calls of CPU and the process of memory."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=_HASHING.get())
