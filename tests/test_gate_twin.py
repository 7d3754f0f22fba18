"""The fast unlock path and its plain twin (the routed Starlette handler) give the same answers.

The same scenarios run against `create_app` (FastUnlock in front) and against the Starlette app
behind it (no fast path), each on a database of its own; every step's status, body and the names
of the cookies set must match.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fixtures.gate.sitekit import build_site, client, settings_for

from gate.accounts import records
from gate.app import create_app
from gate.db import Database
from gate.meter.hotpath import FastUnlock

PASSWORD = "a long enough passphrase"
Step = tuple[str, str, dict[str, str]]  # (kind, argument, extra headers)

SCENARIOS: dict[str, list[Step]] = {
    "guest": [("unlock", "cpt/27252", {}), ("unlock", "cpt/27252", {}), ("unlock", "cpt/27253", {})],
    "free": [("register", "free@example.org", {}),
             *[("unlock", f"cpt/{c}", {}) for c in ("27252", "27253", "99201", "99202", "99203", "99204")],
             ("unlock", "hcpcs/A0021", {})],
    "paid": [("register", "paid@example.org", {}), ("plan", "paid@example.org", {}),
             *[("unlock", f"cpt/{c}", {}) for c in ("27252", "27253", "99201", "99202", "99203", "99204")],
             ("unlock", "cpt/27252", {})],
    "re-view": [("unlock", "cpt/27252", {}), *[("unlock", "cpt/27252", {}) for _ in range(3)]],
    "out of views": [("unlock", "cpt/27252", {}), ("unlock", "cpt/27253", {}), ("unlock", "cpt/99201", {}),
                     ("unlock", "cpt/27252", {})],
    "cross-site": [("unlock", "cpt/27252", {"Origin": "https://evil.example"}),
                   ("unlock", "cpt/27252", {"Sec-Fetch-Site": "cross-site"}),
                   ("unlock", "cpt/27252", {"Referer": "https://evil.example/x"}),
                   ("unlock", "cpt/27252", {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"})],
    "tampered cookie": [("register", "t@example.org", {}), ("tamper", "", {}), ("unlock", "cpt/27252", {}),
                        ("unlock", "cpt/27253", {})],
    "unknown code": [("unlock", "cpt/NOPE1", {}), ("unlock", "nosuchset/27252", {}),
                     ("unlock", "cpt/..%2Fx", {}), ("unlock", "cpt/" + "9" * 60, {}),
                     ("unlock", "cpt/27252", {})],
}


def _run(app: Any, root: Path, steps: list[Step]) -> list[tuple[int, bytes, list[str]]]:
    out = []
    with client(app) as c:
        for kind, arg, headers in steps:
            if kind == "register":
                r = c.post("/gate/register", json={"email": arg, "password": PASSWORD})
                out.append((r.status_code, r.json(), []))
                continue
            if kind == "plan":
                db = Database(None, root / "var" / "gate.sqlite")
                assert db.call(records.set_plan, arg, "paid")
                db.close()
                continue
            if kind == "tamper":
                good = c.cookies.get("coderef_session")
                c.cookies.set("coderef_session", good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
                continue
            r = c.post(f"/gate/unlock/{arg}", headers=headers)
            cookies = sorted(h.split("=", 1)[0] for h in r.headers.get_list("set-cookie"))
            kept = sorted((k, v) for k, v in r.headers.items() if k not in ("set-cookie", "date"))
            out.append((r.status_code, r.content, [*cookies, *map(str, kept)]))
    return out


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_fast_path_and_routed_handler_answer_alike(tmp_path: Path, scenario: str) -> None:
    answers: list[list[tuple[int, bytes, list[str]]]] = []
    # "plain": the Starlette app behind the fast path, as if FastUnlock were removed.
    unwraps: list[tuple[str, Callable[[Any], Any]]] = [
        ("fast", lambda fast: fast), ("plain", lambda fast: fast.app)
    ]
    for name, unwrap in unwraps:
        root = build_site(tmp_path / name)
        fast = create_app(root, settings=settings_for(root))
        assert isinstance(fast, FastUnlock)
        answers.append(_run(unwrap(fast), root, SCENARIOS[scenario]))
    fast_answers, plain_answers = answers
    assert fast_answers == plain_answers
    statuses = [a[0] for a in fast_answers]
    assert statuses and all(s in (200, 201, 402, 403, 404) for s in statuses), statuses


def test_the_scenarios_cover_every_answer_kind(tmp_path: Path) -> None:
    """Guards the twin test against scenarios that drifted into testing nothing."""
    root = build_site(tmp_path)
    seen = set()
    for steps in SCENARIOS.values():
        fast = create_app(root, settings=settings_for(root))
        seen.update(s for s, _, _ in _run(fast, root, steps))
        (root / "var" / "gate.sqlite").unlink()
        for extra in ("-wal", "-shm"):
            (root / "var" / f"gate.sqlite{extra}").unlink(missing_ok=True)
    assert {200, 402, 403, 404} <= seen
