"""Slots, the writer and the journal: the site changes all at once or not at all."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.errors import BuildError
from generator.publish import ALL, Journal, Slots, SlotWriter, digest
from generator.state import open_state


def test_writer_refuses_one_path_twice(tmp_path: Path) -> None:
    w = SlotWriter(tmp_path, {})
    w.write("a/index.html", b"one")
    with pytest.raises(BuildError, match=r"same path 'a/index\.html'"):
        w.write("a/index.html", b"two")


def test_writer_skips_unchanged_and_never_writes_in_place(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    f = tmp_path / "a" / "index.html"
    f.write_bytes(b"same")
    other = tmp_path / "linked.html"
    other.hardlink_to(f)  # as if the live slot shared the inode
    w = SlotWriter(tmp_path, {"a/index.html": digest(b"same")})
    w.write("a/index.html", b"same")
    assert w.written == 0
    w2 = SlotWriter(tmp_path, {"a/index.html": "stale"})
    w2.write("a/index.html", b"new")
    assert f.read_bytes() == b"new" and other.read_bytes() == b"same"


def _live_site(tmp_path: Path) -> tuple[Slots, Path]:
    state = tmp_path / ".coderef"
    db = open_state(state)
    slots = Slots(state, tmp_path / "site", db)
    slot, d, _ = slots.open_target(clean=True)
    (d / "p").mkdir()
    (d / "p" / "index.html").write_bytes(b"old")
    slots.commit(slot, {"p/index.html": digest(b"old")}, ALL)
    return slots, d


def test_journal_rolls_forward_after_a_kill(tmp_path: Path) -> None:
    slots, _live = _live_site(tmp_path)
    journal = Journal(tmp_path / ".coderef", slots.db)
    staging = journal.stage()
    (staging / "p").mkdir()
    (staging / "p" / "index.html").write_bytes(b"new")
    # Simulate a kill right after the commit point: the journal exists, nothing applied yet.
    entry = {"live": slots.active(), "moves": [["p/index.html", "p/index.html"]], "deletes": [],
             "new": {"p/index.html": digest(b"new")}}
    (tmp_path / ".coderef" / "journal.json").write_text(json.dumps(entry))
    assert (tmp_path / "site" / "p" / "index.html").read_bytes() == b"old"
    slots2 = Slots(tmp_path / ".coderef", tmp_path / "site", slots.db)  # the next build starts
    assert (tmp_path / "site" / "p" / "index.html").read_bytes() == b"new"
    assert slots2.manifest() == {"p/index.html": digest(b"new")}
    assert not (tmp_path / ".coderef" / "journal.json").exists()


def test_staged_files_without_journal_are_discarded(tmp_path: Path) -> None:
    slots, _live = _live_site(tmp_path)
    journal = Journal(tmp_path / ".coderef", slots.db)
    staging = journal.stage()
    (staging / "p").mkdir()
    (staging / "p" / "index.html").write_bytes(b"half-done")
    Slots(tmp_path / ".coderef", tmp_path / "site", slots.db)
    assert (tmp_path / "site" / "p" / "index.html").read_bytes() == b"old"
    assert not staging.exists()


def test_real_directory_at_site_is_refused(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    with pytest.raises(BuildError, match="real directory"):
        Slots(tmp_path / ".coderef", tmp_path / "site", open_state(tmp_path / ".coderef"))
