"""Cookie signing with key rotation, and server-side session lifetimes."""
from __future__ import annotations

from pathlib import Path

from gate.accounts import records as accounts
from gate.accounts import sessions
from gate.accounts.sessions import CookieSigner
from gate.db import Database


def test_signing_rotation_and_kind_separation() -> None:
    old = CookieSigner(["old-key-" + "o" * 20])
    both = CookieSigner(["new-key-" + "n" * 20, "old-key-" + "o" * 20])
    sid = sessions.new_id()
    assert len(sid) >= 22  # ≥ 128 bits
    assert both.session_id(old.sign_session(sid)) == sid  # old keys still verify
    signed_new = both.sign_session(sid)
    assert old.session_id(signed_new) is None  # the new key signs
    assert both.guest_id(signed_new) is None  # a session cookie is not a guest cookie
    assert both.session_id(signed_new[:-2] + "AA") is None
    for junk in (None, "", "abc", "a.b", "é" * 10, "x" * 500):
        assert both.session_id(junk) is None


def test_cookie_names() -> None:
    assert sessions.cookie_names(True) == ("__Host-coderef_session", "__Host-coderef_guest")
    assert sessions.cookie_names(False) == ("coderef_session", "coderef_guest")


def test_lifetimes_and_deletion(tmp_path: Path) -> None:
    db = Database(None, tmp_path / "g.sqlite")
    aid = db.call(accounts.create, "s@example.org", "h", "free", 0)
    sid = db.call(sessions.create, aid, 1000)
    assert db.call(sessions.load, sid, 1000 + 70, 100, 1000).email == "s@example.org"
    assert db.call(sessions.load, sid, 1000 + 160, 100, 1000) is not None  # seen_at was refreshed at +70
    assert db.call(sessions.load, sid, 1000 + 300, 100, 1000) is None  # idle too long: gone for good
    assert db.call(sessions.load, sid, 1000 + 301, 10**6, 10**6) is None
    sid2 = db.call(sessions.create, aid, 1000)
    assert db.call(sessions.load, sid2, 1000 + 1001, 10**6, 1000) is None  # absolute lifetime
    sid3 = db.call(sessions.create, aid, 5000)
    stored = db.call(lambda c: c.one("SELECT id FROM sessions")[0])
    assert sid3 not in stored  # only a hash of the id is stored
    db.call(sessions.delete_all, aid)
    assert db.call(sessions.load, sid3, 5000, 100, 1000) is None
    db.close()
