"""Password rules, argon2id parameters, rehashing and the dummy verify for unknown accounts."""
from __future__ import annotations

import time

from argon2 import extract_parameters

from gate.accounts import passwords as pw


def test_rules_without_composition() -> None:
    assert pw.password_problem("short") == "password_too_short"
    assert pw.password_problem("ééé") == "password_too_short"  # 6 bytes
    assert pw.password_problem("a" * 8) == "weak_password"
    assert pw.password_problem("Password123") == "weak_password"
    assert pw.password_problem("x" * 1023 + "é") == "password_too_long"  # 1025 bytes
    assert pw.password_problem("plain lowercase words") is None
    assert pw.password_problem("y" * 1023 + "z") is None


def test_email_normalisation_and_validation() -> None:
    assert pw.normalise_email("  Ann.Lee@Example.COM ") == "ann.lee@example.com"
    for bad in (
        "", "a", "a@b", "a@@b.org", "a b@c.org", "a..b@c.org", "@c.org", "a@-c.org", "x" * 65 + "@c.org",
    ):
        assert pw.email_problem(bad) == "invalid_email", bad
    assert pw.email_problem("first.last+tag@sub.example.org") is None


def test_hash_meets_owasp_floor_and_rehashes_on_parameter_change() -> None:
    ph = pw.hasher(2, 19456, 1)
    h = pw.hash_password(ph, "correct horse battery")
    p = extract_parameters(h)
    assert h.startswith("$argon2id$") and p.memory_cost >= 19456 and p.time_cost >= 2 and p.parallelism >= 1
    assert pw.verify_password(ph, h, "correct horse battery") == (True, None)
    assert pw.verify_password(ph, h, "wrong horse battery") == (False, None)
    stronger = pw.hasher(3, 19456, 1)
    ok, new = pw.verify_password(stronger, h, "correct horse battery")
    assert ok and new is not None and extract_parameters(new).time_cost == 3
    assert pw.verify_password(ph, "not a hash", "x") == (False, None)


def test_unknown_account_costs_a_real_verify() -> None:
    ph = pw.hasher(2, 19456, 1)
    h = pw.hash_password(ph, "correct horse battery")
    pw.verify_password(ph, None, "warm-up")

    def timed(stored: str | None) -> float:
        start = time.perf_counter()
        for _ in range(3):
            pw.verify_password(ph, stored, "some guess here")
        return time.perf_counter() - start

    pw.dummy_hash(ph)  # computed once per process: not part of what an unknown email costs
    real, dummy = timed(h), timed(None)
    assert 0.4 < dummy / real < 2.5
