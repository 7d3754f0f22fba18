"""The meter: periods, free re-views, guest carry-over, and race-free consumption on both engines."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.gate.sitekit import pg_schema

from gate.accounts import records as accounts
from gate.db import Database
from gate.meter import allowance
from gate.meter.allowance import (
    ALREADY,
    EXHAUSTED,
    IP_CAP,
    UNLOCKED,
    Period,
    consume,
    merge_guest,
    period_for,
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    made: list[Database] = []

    def factory(url: str | None) -> Database:
        db = Database(url, tmp_path / "gate.sqlite")
        made.append(db)
        return db

    if request.param == "sqlite":
        yield lambda: factory(None)
    else:
        with pg_schema() as url:
            yield lambda: factory(url)
            for db in made:
                db.close()
            made.clear()
    for db in made:
        db.close()


def test_periods() -> None:
    t = 1_700_000_000  # 2023-11-14 UTC
    assert period_for("month", t) == Period("2023-11", 0)
    assert period_for("lifetime", t) == Period("lifetime", 0)
    assert period_for("rolling:7", t) == Period("rolling", t - 7 * 86400)


def test_consume_rules(make_db) -> None:  # type: ignore[no-untyped-def]
    db = make_db()
    p = Period("2030-01", 0)
    assert db.call(consume, "g:guest-one-abcdefghijkl", 1, p, "cpt", "1") == UNLOCKED
    assert db.call(consume, "g:guest-one-abcdefghijkl", 1, p, "cpt", "1") == ALREADY
    assert db.call(consume, "g:guest-one-abcdefghijkl", 1, p, "cpt", "2") == EXHAUSTED
    assert db.call(consume, "g:guest-one-abcdefghijkl", 1, Period("2030-02", 0), "cpt", "2") == UNLOCKED
    assert (
        db.call(consume, "g:guest-two-abcdefghijkl", 5, p, "cpt", "3", guest_ip="1.2.3.4", ip_cap=1)
        == UNLOCKED
    )
    assert (
        db.call(consume, "g:guest-3-abcdefghijklm", 5, p, "cpt", "3", guest_ip="1.2.3.4", ip_cap=1) == IP_CAP
    )


def test_rolling_period_expires_old_unlocks(make_db) -> None:  # type: ignore[no-untyped-def]
    db = make_db()
    s = "g:rolling-guest-abcdefgh"
    assert db.call(consume, s, 1, period_for("rolling:1", 1000), "cpt", "1", now=1000) == UNLOCKED
    later = period_for("rolling:1", 1000 + 86401)
    assert db.call(allowance.used, s, later) == 0
    assert db.call(consume, s, 1, later, "cpt", "2", now=1000 + 86401) == UNLOCKED
    assert db.call(consume, s, 1, later, "cpt", "1", now=1000 + 86402) == EXHAUSTED


def test_merge_guest_respects_allowance(make_db) -> None:  # type: ignore[no-untyped-def]
    db = make_db()
    p = Period("2030-01", 0)
    aid = db.call(accounts.create, "m@example.org", "h", "free", 0)
    for code in ("1", "2", "3"):
        db.call(consume, "g:merge-guest-abcdefgh", None, p, "cpt", code)
    db.call(consume, f"a:{aid}", 2, p, "cpt", "1")
    assert db.call(merge_guest, "merge-guest-abcdefgh", f"a:{aid}", 2, p) == 1
    assert db.call(allowance.used, f"a:{aid}", p) == 2
    assert db.call(allowance.used, "g:merge-guest-abcdefgh", p) == 3  # the browser keeps its guest meter


@pytest.mark.slow
def test_parallel_consumers_take_exactly_the_last_view(make_db) -> None:  # type: ignore[no-untyped-def]
    """48 threads, each on its own connection, race for one remaining view: exactly one wins."""
    setup = make_db()
    p = Period("2030-01", 0)
    aid = setup.call(accounts.create, "race@example.org", "h", "free", 0)
    for code in ("1", "2", "3", "4", "5"):
        setup.call(consume, f"a:{aid}", 6, p, "cpt", code)
    dbs = [make_db() for _ in range(8)]
    for db in dbs:
        db.call(allowance.used, f"a:{aid}", p)  # connect + migrate before the race
    outcomes: list[str] = []
    barrier = threading.Barrier(48)

    def racer(i: int) -> None:
        barrier.wait()
        outcomes.append(dbs[i % 8].call(consume, f"a:{aid}", 6, p, "cpt", f"new-{i}"))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(48)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count(UNLOCKED) == 1 and outcomes.count(EXHAUSTED) == 47
    assert setup.call(allowance.used, f"a:{aid}", p) == 6
