"""Housekeeping: refused guests leave no rows; expired sessions, old attempts and past guests are pruned."""
from __future__ import annotations

import time
from pathlib import Path

from fixtures.gate.sitekit import build_site, client, settings_for

from gate.accounts import limits, sessions
from gate.accounts import records as accounts
from gate.app import create_app
from gate.db import Database
from gate.housekeeping import prune
from gate.meter.allowance import Period, consume


def _count(db: Database, table: str) -> int:
    return int(db.call(lambda c: c.one(f"SELECT COUNT(*) FROM {table}")[0]))


def test_refused_guest_unlocks_insert_no_rows(tmp_path: Path) -> None:
    root = build_site(tmp_path)
    (root / "content").mkdir()
    (root / "content" / "site.yml").write_text("meter:\n  guest_ip_cap: 2\n", encoding="utf-8")
    app = create_app(root, settings=settings_for(root))
    statuses = []
    for _ in range(60):
        with client(app) as fresh:  # a new guest each time, all behind one IP
            statuses.append(fresh.post("/gate/unlock/cpt/27252").status_code)
    assert statuses.count(200) == 2 and statuses.count(402) == 58
    db = Database(None, root / "var" / "gate.sqlite")
    assert _count(db, "guests") == 2  # before: one row per refusal too (62)
    db.close()


def test_prune_keeps_what_counts_and_drops_the_rest(tmp_path: Path) -> None:
    db = Database(None, tmp_path / "g.sqlite")
    now = int(time.time())
    this = Period("2030-05", 0)
    account = db.call(accounts.create, "h@example.org", "x", "free", now)
    live = db.call(sessions.create, account, now)
    db.call(sessions.create, account, now - 8 * 86400)  # idle for 8 days
    db.call(lambda c: c.execute("INSERT INTO events(key, at) VALUES ('login-ip:1', ?), ('login-ip:1', ?)",
                                (now, now - 2 * limits.WINDOW)))
    guests = (("old-guest-aaaaaaaaaaaaaaaa", Period("2030-04", 0)), ("new-guest-bbbbbbbbbbbbbbbb", this))
    for gid, period in guests:
        assert db.call(consume, f"g:{gid}", 1, period, "cpt", "27252", now=now - 2 * 86400) == "unlocked"
    assert db.call(consume, f"a:{account}", 5, Period("2030-04", 0), "cpt", "1") == "unlocked"
    done = db.call(prune, this, 7 * 86400, 30 * 86400, now)
    assert (done.sessions, done.events, done.unlocks, done.guests) == (1, 1, 1, 1)
    assert db.call(sessions.load, live, now, 7 * 86400, 30 * 86400) is not None
    assert _count(db, "guests") == 1 and _count(db, "events") == 1
    assert _count(db, "unlocks") == 2  # this period's guest, and the account's history
    db.close()
