"""CasePilot's release answers (gate/assistant/answers_history.py) on the small CasePilot project with the
sample FY2025 code list beside the sample FY2026 tabular: is a code new, what changed in it, when was it
deleted and what replaced it, what a release changed, which release applies to a date of service.

The expectations are computed here from the two sample files (the FY2025 TSV, and the FY2026 codes as
the facts list them), not copied from the answers; the many phrasings are not tuned to one answer."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from casepilot_kit import assistant_yml, build_casepilot_project
from conftest import DATA
from fixtures.gate.sitekit import client, settings_for

from gate.assistant.answer import Answer, CasePilot
from generator.history.pfs import pfs_order, quarter_end
from generator.history.releases import Release

FY2025 = DATA / "icd10cm_fy2025_sample.tsv"
CHANGES = "/icd-10-cm/changes/fy2026/"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    yml = assistant_yml().replace("sources:\n", f"sources:\n  icd10cm-fy2025: {FY2025}\n", 1)
    return build_casepilot_project(tmp_path_factory.mktemp("pilot-history") / "proj", yml)


@pytest.fixture(scope="module")
def pilot(root: Path) -> Iterator[CasePilot]:
    cp = CasePilot(root / "var" / "assistant.sqlite")
    yield cp
    cp.close()


@pytest.fixture(scope="module")
def data(root: Path) -> dict[str, Any]:
    """The two releases compared independently of generator/history: FY2025 from its TSV, FY2026 as
    the facts' code table lists the code pages."""
    with FY2025.open(encoding="utf-8", newline="") as f:
        old = {r["code_dot"]: (r["billable"] == "1", " ".join(r["long_desc"].split())) for r in
               csv.DictReader(f, delimiter="\t")}
    db = sqlite3.connect(root / "var" / "assistant.sqlite")
    new = {k: (bool(b), " ".join(t.split())) for k, b, t in db.execute(
        "SELECT key, billable, title FROM codes WHERE codeset='icd-10-cm' AND kind='code'")}
    db.close()
    return {
        "old": old, "new": new,
        "added": sorted(k for k in new if k not in old),
        "deleted": sorted(k for k in old if k not in new),
        "revised": sorted(k for k in new if k in old and old[k][1] != new[k][1]),
        "status": sorted(k for k in new if k in old and old[k][0] != new[k][0]),
        "same": sorted(k for k in new if k in old and old[k] == new[k]),
    }


def _cites(a: Answer) -> set[str]:
    return {c.url for c in a.citations}


def test_the_sample_has_every_kind_of_change(data: dict[str, Any]) -> None:
    for kind in ("added", "deleted", "revised", "status", "same"):
        assert data[kind], kind


NEW_ASKS = ("Is {k} a new code?", "is {k} new in FY2026", "when was {k} added?", "{b} new?",
            "Was {k} introduced this year?", "history of {k}")


@pytest.mark.parametrize("ask", NEW_ASKS)
def test_new_codes_are_new_in_fy2026(pilot: CasePilot, data: dict[str, Any], ask: str) -> None:
    for k in data["added"]:
        a = pilot.answer(ask.format(k=k, b=k.replace(".", "").lower()))
        assert (a.topic, a.kind) == ("history", "answer"), (ask, k, a.text)
        assert f"Yes: ICD-10-CM {k} is new in FY2026: it is not in FY2025." in a.text
        assert f"/icd-10-cm/{k}/" in _cites(a)


DELETED_ASKS = ("When was {k} deleted?", "what replaced {k}", "Is {k} still valid?", "what happened to {k}",
                "What is {k}?", "{b} deleted?")


@pytest.mark.parametrize("ask", DELETED_ASKS)
def test_deleted_codes_say_when_and_what_instead(pilot: CasePilot, data: dict[str, Any], ask: str) -> None:
    for k in data["deleted"]:
        a = pilot.answer(ask.format(k=k, b=k.replace(".", "").lower()))
        assert (a.topic, a.kind) == ("history", "answer"), (ask, k, a.text)
        assert f"ICD-10-CM {k} was deleted in FY2026 (in force 2025-10-01 to 2026-09-30)" in a.text
        assert f"titled \u201c{data['old'][k][1]}\u201d" in a.text
        # What to look at instead: the longest leading part of the code that is a code today.
        near = next(k[:n].rstrip(".") for n in range(len(k), 2, -1) if k[:n].rstrip(".") in data["new"])
        assert f"Look at the nearest code of today instead: {near}" in a.text
        assert {f"/icd-10-cm/{k}/", f"/icd-10-cm/{near}/", CHANGES} <= _cites(a)
        said = "The releases held name no code that replaced it." in a.text
        assert said == ("replaced" in ask), a.text


REVISED_ASKS = ("What changed in {k}?", "what did {k} say last year", "was {k} revised", "history of {b}",
                "Has the title of {k} changed?")


@pytest.mark.parametrize("ask", REVISED_ASKS)
def test_revised_titles_show_both_texts(pilot: CasePilot, data: dict[str, Any], ask: str) -> None:
    for k in data["revised"]:
        a = pilot.answer(ask.format(k=k, b=k.replace(".", "")))
        assert (a.topic, a.kind) == ("history", "answer"), (ask, k, a.text)
        old, new = data["old"][k][1], data["new"][k][1]
        assert f"FY2026: title revised. Was \u201c{old}\u201d; now \u201c{new}\u201d." in a.text
        assert {f"/icd-10-cm/{k}/", CHANGES} <= _cites(a)


def test_status_changes_and_unchanged_codes(pilot: CasePilot, data: dict[str, Any]) -> None:
    for k in data["status"]:
        was, now = ("billable" if b else "header" for b in (data["old"][k][0], data["new"][k][0]))
        a = pilot.answer(f"what changed in {k}")
        assert f"FY2026: billable status changed from {was} to {now}." in a.text
    for k in data["same"]:
        a = pilot.answer(f"Is {k} a new code?")
        assert (a.topic, a.kind) == ("history", "answer")
        every = "it is in every release held here (FY2025, FY2026)."
        assert f"ICD-10-CM {k} is not new in FY2026: {every}" in a.text
        assert "Nothing changed in it between FY2025 and FY2026" in a.text
        assert _cites(a) == {f"/icd-10-cm/{k}/"}


def test_on_a_code_page_this_code_is_the_page(pilot: CasePilot, data: dict[str, Any]) -> None:
    k = data["added"][0]
    a = pilot.answer("Is this code new?", f"icd-10-cm/{k}")
    assert f"Yes: ICD-10-CM {k} is new in FY2026" in a.text


@pytest.mark.parametrize("ask", [
    "What's new in ICD-10-CM FY2026?", "what changed in icd-10-cm fy 2026", "FY2026 changes",
    "what are the new diagnosis codes in FY2026?", "What's new in ICD-10-CM?",
    "list the icd10cm updates for fiscal year 2026",
])
def test_what_a_release_changed(pilot: CasePilot, data: dict[str, Any], ask: str) -> None:
    a = pilot.answer(ask)
    assert (a.topic, a.kind) == ("history", "answer"), a.text
    counts = (f"new codes: {len(data['added'])}, revised titles: {len(data['revised'])}, deleted codes: "
              f"{len(data['deleted'])}, billable status changes: {len(data['status'])}.")
    assert "compared with FY2025: " + counts in a.text
    assert CHANGES in _cites(a)
    assert {f"/icd-10-cm/{k}/" for k in data["added"][:5]} <= _cites(a)


def _fiscal_year(day: date) -> int:
    return day.year + (day.month >= 10)


@pytest.mark.parametrize("day", [date(2024, 9, 30), date(2024, 10, 1), date(2025, 3, 15), date(2025, 9, 30),
                                 date(2025, 10, 1), date(2025, 11, 3), date(2026, 9, 30), date(2026, 10, 1)])
def test_which_icd10cm_release_applies_to_a_date_of_service(pilot: CasePilot, day: date) -> None:
    fy = _fiscal_year(day)
    for ask in (f"Which ICD-10-CM release applies to a date of service of {day.isoformat()}?",
                f"icd-10-cm version for DOS {day.month}/{day.day}/{day.year}",
                f"diagnosis codes in effect on {day:%B} {day.day}, {day.year}"):
        a = pilot.answer(ask)
        assert a.topic == "history", a.text
        if fy in (2025, 2026):
            end = date(fy, 9, 30)
            assert a.kind == "answer"
            start = date(fy - 1, 10, 1)
            assert f"ICD-10-CM on {day.isoformat()}: ICD-10-CM FY{fy}, in force {start} to {end}" in a.text
            assert (CHANGES if fy == 2026 else "/icd-10-cm/") in _cites(a)
        else:
            assert a.kind == "unknown" and "I don't know" in a.text and not a.citations


@pytest.mark.parametrize("ask", ["Was {k} valid on {d}?", "is {k} valid for a date of service of {d}",
                                 "{k} in effect on {d:%B} {d.day}, {d.year}?",
                                 "can I use {k} for DOS {d:%m/%d/%Y}"])
def test_is_a_code_valid_on_a_date_of_service(pilot: CasePilot, data: dict[str, Any], ask: str) -> None:
    for k in data["added"] + data["same"] + data["revised"]:
        for day in (date(2025, 3, 1), date(2025, 9, 30), date(2025, 10, 1), date(2026, 9, 30)):
            a = pilot.answer(ask.format(k=k, d=day))
            fy = _fiscal_year(day)
            assert a.topic == "history" and a.kind == "answer", (ask, k, day, a.text)
            in_force = f"ICD-10-CM FY{fy}, the release in force on {day.isoformat()}"
            if fy == 2025 and k in data["added"]:
                assert f"No: ICD-10-CM {k} is not in {in_force}" in a.text and "added in FY2026" in a.text
            else:
                assert f"Yes: ICD-10-CM {k} is in {in_force}" in a.text, a.text
            assert _cites(a) == {f"/icd-10-cm/{k}/"}
    for ask_day in ("2024-09-30", "2026-10-01"):
        a = pilot.answer(ask.format(k=data["same"][0], d=date.fromisoformat(ask_day)))
        assert a.kind == "unknown" and "no release of ICD-10-CM held here covers that date" in a.text


@pytest.mark.parametrize(("ask", "says"), [
    ("was 99213 valid on 2025-03-01", "I don't know whether CPT 99213 applies on 2025-03-01"),
    ("was E11.9 valid on 2025-02-30", "2025-02-30 is not a date"),
    ("Is CPT 99213 new?", "I don't know whether CPT 99213 is new"),
    ("is 0SR9019 new", "I don't know whether ICD-10-PCS 0SR9019 is new"),
    ("What's new in FY2027?", "I don't know what changed in FY2027"),
    ("What's new in the NCCI edits this quarter?", "I don't know what changed in NCCI edits"),
    ("what changed in HCPCS", "I don't know what changed in HCPCS Level II"),
    ("what are the new CPT codes", "I don't know what changed in CPT"),
    ("what did FY2025 change", "I don't know what ICD-10-CM FY2025 changed"),
    ("which release applies to 2025-02-30", "2025-02-30 is not a date"),
])
def test_no_invented_history(pilot: CasePilot, ask: str, says: str) -> None:
    a = pilot.answer(ask)
    assert a.kind == "unknown" and says in a.text, a.text


def test_a_code_never_held_is_still_no_such_code(pilot: CasePilot) -> None:
    for ask, code in [("When was E11.99 deleted?", "E11.99 in ICD-10-CM"),
                      ("what changed in 0DTJ4ZZ", "0DTJ4ZZ in ICD-10-PCS")]:  # in neither sample release
        a = pilot.answer(ask)
        assert a.topic == "unknown_code" and f"no such code {code}" in a.text, a.text


def test_other_data_sets_on_a_date_of_service(pilot: CasePilot, root: Path) -> None:
    """HCPCS, NCCI, MUE and PFS releases as `coderef releases` makes them (the sample project holds none
    of their dated files, so they are put in the opened facts here)."""
    facts = pilot.reader.current()
    def quarter(name: str, title: str, start: date) -> Release:
        return Release(name, start.isoformat()[:7], f"{title} {start:%B %Y}", start, quarter_end(start))
    facts.held["hcpcs"] = [quarter("hcpcs", "HCPCS Level II", date(2024, 7, 1))]
    ncci = "NCCI procedure-to-procedure edits"
    facts.held["ncci"] = [quarter("ncci", ncci, date(2024, m, 1)) for m in (4, 7)]
    facts.held["mue"] = [quarter("mue", "Medically unlikely edits", date(2024, 7, 1))]
    facts.held["pfs"] = pfs_order(["rvu24a_jan", "rvu24ar_jan", "rvu24b_apr", "rvu24c_jul"], root / "pprrvu")
    try:
        for ask, expected in [
            ("Which HCPCS release applies to 2024-08-15?",
             "HCPCS Level II on 2024-08-15: HCPCS Level II July 2024"),
            ("which NCCI edits apply to a date of service of 2024-05-02", "NCCI edits on 2024-05-02: "
             "NCCI procedure-to-procedure edits April 2024, in force 2024-04-01 to 2024-06-30"),
            ("MUE quarter in effect on 09/30/2024", "MUEs on 2024-09-30: Medically unlikely edits July 2024"),
            ("which fee schedule RVUs apply on March 9, 2024",
             "Physician Fee Schedule RVUs on 2024-03-09: PFS RVU24AR"),
            ("which fee schedule RVUs apply on March 8, 2024",
             "Physician Fee Schedule RVUs on 2024-03-08: PFS RVU24A,"),
        ]:
            a = pilot.answer(ask)
            assert (a.topic, a.kind) == ("history", "answer") and expected in a.text, (ask, a.text)
        a = pilot.answer("Which HCPCS release applies to 2024-10-01?")
        assert a.kind == "unknown" and "no release held here covers that date" in a.text
        every = pilot.answer("what release applies to a date of service of 2024-07-01?")
        assert [line.split(" on ")[0] for line in every.text.split("\n")] == [
            "- ICD-10-CM", "- HCPCS Level II", "- NCCI edits", "- MUEs", "- Physician Fee Schedule RVUs"]
        assert "/guides/ncci-basics/" in _cites(every)
    finally:
        for k in ("hcpcs", "ncci", "mue", "pfs"):
            facts.held.pop(k, None)


def test_through_the_gate_with_citations(root: Path, tmp_path: Path) -> None:
    dest = tmp_path / "proj"
    shutil.copytree(root, dest, symlinks=True)
    with client(create_app_for(dest)) as c:
        r = c.post("/gate/ask", json={"question": "Is E11.01 a new code?", "context": ""})
        assert r.status_code == 200
        body = r.json()
        assert "new in FY2026" in body["answer"]["text"]
        assert body["citations"][0]["url"] == "/icd-10-cm/E11.01/"
        assert body["citations"][0]["release"].startswith("ICD-10-CM FY2026")


def test_facts_of_an_older_schema_ask_for_a_build(root: Path, tmp_path: Path) -> None:
    """A gate newer than its facts file (no release tables yet) says to rebuild, never answers from half."""
    from gate.assistant.facts import FactsMissing

    old = tmp_path / "assistant.sqlite"
    shutil.copyfile(root / "var" / "assistant.sqlite", old)
    db = sqlite3.connect(old)
    db.execute("UPDATE meta SET value='1' WHERE key='schema'")
    db.commit()
    db.close()
    cp = CasePilot(old)
    with pytest.raises(FactsMissing, match=r"facts schema 1, this gate reads 2.*coderef build"):
        cp.answer("Is E11.01 a new code?")
    cp.close()


def create_app_for(root: Path) -> Any:
    from gate.app import create_app

    return create_app(root, settings=settings_for(root))



@pytest.mark.parametrize(("text", "dates", "bad"), [
    ("dos 2025-11-03", [date(2025, 11, 3)], []),
    ("seen 11/3/2025 and 12/01/2025", [date(2025, 11, 3), date(2025, 12, 1)], []),
    ("on Nov 3rd, 2025", [date(2025, 11, 3)], []),
    ("Sept. 30, 2025", [date(2025, 9, 30)], []),
    ("the 3rd of March 2024", [date(2024, 3, 3)], []),
    ("market 12 2025", [], []),
    ("2025-02-30 and 13/01/2025", [], ["2025-02-30", "13/01/2025"]),
    ("codes for 2025", [], []),
])
def test_dates_of_service_are_read_in_the_usual_ways(text: str, dates: list[date], bad: list[str]) -> None:
    from gate.assistant.understand import parse

    q = parse(text)
    assert (q.dates, q.bad_dates) == (dates, bad)
    assert not q.mentions  # no code is read from a date
