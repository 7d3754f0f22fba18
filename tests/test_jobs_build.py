"""The job board in a build: listing, feed and sitemap; the jobs-only publish after an approval
(only job files rewritten, the same bytes as a clean build); expiry; samples switched off; errors."""

from __future__ import annotations

import datetime as dt
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import make_project
from jobs_kit import add_listing, inodes, job_posting, robots_noindex, site_hashes

from gate.db import Conn, Database
from gate.jobs import moderation, posts
from generator.build import build
from generator.errors import ContentErrors
from generator.jobs.pages import is_job_output

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FORM = {
    "title": "Denial Management Coder",
    "employer_name": "Tulsa Bone and Joint",
    "work": "hybrid",
    "locations": "Tulsa, OK 74103",
    "employment_full-time": "1",
    "setting_physician-practice": "1",
    "credentials_required": "CPC, COC",
    "salary_min": "52000",
    "salary_max": "61000",
    "salary_unit": "year",
    "salary_currency": "USD",
    "apply_url": "https://tbj.example.com/careers/77",
    "description": "Work coding denials for an orthopedic group.\n\n"
    "## Duties\n\n- Appeal denials\n- Fix edits\n\n"
    "The group has twelve surgeons and two clinics; the coding team is small and works closely together.",
}

LIMITS = posts.Limits(5, 20)


def add_account(conn: Conn, email: str) -> int:
    row = conn.one(
        "INSERT INTO accounts(email, password_hash, plan, created_at)"
        " VALUES (?, 'x', 'free', 0) RETURNING id",
        (email,),
    )
    return int(row[0])


def text(root: Path, rel: str) -> str:
    return (root / "site" / rel).read_text(encoding="utf-8")


def listed_slugs(root: Path) -> list[str]:
    html = text(root, "jobs/index.html")
    return [seg.split('/"', 1)[0] for seg in html.split('<h2 class="job-card-title"><a href="/jobs/')[1:]]


def feed_ids(root: Path) -> list[str]:
    tree = ET.fromstring((root / "site" / "jobs" / "feed.xml").read_bytes())
    assert tree.tag == f"{ATOM}feed" and tree.find(f"{ATOM}updated") is not None
    return [str(e.findtext(f"{ATOM}id")) for e in tree.iter(f"{ATOM}entry")]


def sitemap_locs(root: Path) -> list[str]:
    tree = ET.fromstring((root / "site" / "sitemaps" / "jobs.xml").read_bytes())
    return [str(loc.text) for loc in tree.iter(f"{SITEMAP}loc")]


@pytest.fixture()
def day(monkeypatch: pytest.MonkeyPatch) -> object:
    """Pins the build's day; call it to move the clock."""

    def set_day(value: str) -> None:
        monkeypatch.setenv("CODEREF_TODAY", value)

    set_day("2026-12-02")
    return set_day


def test_board_pages_feed_and_sitemap(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj")
    add_listing(root, "physician-practice-coder-real-clinic")
    build(root, quiet=True, jobs=1, search=False)
    slugs = listed_slugs(root)
    assert slugs[0] == "pro-fee-coder-example-coding-services"  # posted 2026-12-01: newest first
    assert len(slugs) == 8 and "physician-practice-coder-real-clinic" in slugs
    ids = feed_ids(root)
    assert len(ids) == 8 and ids[0].endswith("/jobs/pro-fee-coder-example-coding-services/")
    # The sitemap lists the board and the real job; samples are examples (noindex) and stay out of it.
    assert sitemap_locs(root) == [
        "https://codes.example.org/jobs/",
        "https://codes.example.org/jobs/physician-practice-coder-real-clinic/",
    ]
    assert "https://codes.example.org/sitemaps/jobs.xml" in text(root, "sitemap.xml")
    assert '<a href="/jobs/">Jobs</a>' in text(root, "icd-10-cm/S72.001A/index.html")  # the header link
    real = text(root, "jobs/physician-practice-coder-real-clinic/index.html")
    assert job_posting(real) is not None and not robots_noindex(real)
    assert "/jobs/*\n  Cache-Control: public, max-age=300" in text(root, "_headers")


def test_approved_post_is_published_by_a_jobs_only_build(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj")
    first = build(root, quiet=True, jobs=1, search=False)
    assert first.mode == "clean"
    assert build(root, quiet=True, jobs=1, search=False).mode == "noop"
    before, nodes = site_hashes(root), inodes(root)
    db = Database(None, root / "var" / "gate.sqlite")
    account = db.call(add_account, "emp@example.org")
    now = int(time.time())
    post_id = db.call(
        posts.submit, account, "203.0.113.9", FORM, FORM["title"], FORM["employer_name"], now, LIMITS
    )
    assert isinstance(post_id, int)
    outcome = moderation.approve(db, root, post_id, "editor@example.org", dt.date(2026, 12, 2), now)
    assert outcome.ok and outcome.changed, outcome.message
    slug = f"denial-management-coder-tulsa-bone-and-joint-{post_id}"
    assert (root / "content" / "jobs" / f"{slug}.md").is_file()
    assert db.call(posts.get, post_id).status == posts.APPROVED
    assert not moderation.approve(
        db, root, post_id, "other@example.org", dt.date(2026, 12, 2), now
    ).ok  # decided

    result = build(root, quiet=True, jobs=1, search=False)
    assert result.mode == "jobs"
    after = site_hashes(root)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    assert changed == {f"jobs/{slug}/index.html", "jobs/index.html", "jobs/feed.xml", "sitemaps/jobs.xml"}
    assert set(result.changed) == changed
    assert all(is_job_output(p) for p in changed)
    # Nothing else was rewritten: the other files are the very same inodes.
    now_nodes = inodes(root)
    assert {p for p in nodes if p not in changed and nodes[p] != now_nodes.get(p)} == set()
    assert slug in listed_slugs(root)
    page = text(root, f"jobs/{slug}/index.html")
    assert job_posting(page)["hiringOrganization"]["name"] == "Tulsa Bone and Joint"  # type: ignore[index]

    # The incremental result is byte for byte what a clean build makes.
    twin = tmp_path / "twin"
    shutil.copytree(root, twin, symlinks=True)
    build(twin, quiet=True, jobs=1, search=False, clean=True)
    assert site_hashes(twin) == after

    # Expiring it: a closed page (noindex, no JobPosting), gone from the board, the feed and the sitemap.
    assert moderation.expire(db, root, str(post_id), "editor@example.org", dt.date(2026, 12, 3), now).ok
    day("2026-12-03")  # type: ignore[operator]
    assert build(root, quiet=True, jobs=1, search=False).mode == "jobs"
    page = text(root, f"jobs/{slug}/index.html")
    assert "This job is closed." in page and robots_noindex(page) and job_posting(page) is None
    assert slug not in listed_slugs(root)
    assert not any(slug in i for i in feed_ids(root)) and not any(slug in u for u in sitemap_locs(root))
    assert db.call(posts.get, post_id).status == posts.EXPIRED
    db.close()


def test_jobs_leave_the_board_when_their_date_passes(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj", jobs=False)
    add_listing(root, "short-lived-coder", posted="2026-11-20", through="2026-12-05")
    build(root, quiet=True, jobs=1, search=False)
    assert listed_slugs(root) == ["short-lived-coder"] and len(sitemap_locs(root)) == 2
    day("2026-12-05")  # type: ignore[operator]
    assert build(root, quiet=True, jobs=1, search=False).mode == "noop" or listed_slugs(root) == [
        "short-lived-coder"
    ]
    day("2026-12-06")  # type: ignore[operator]
    before = site_hashes(root)
    result = build(root, quiet=True, jobs=1, search=False)
    assert result.mode == "jobs"
    changed = {p for p, h in site_hashes(root).items() if before.get(p) != h}
    assert changed == {
        "jobs/short-lived-coder/index.html",
        "jobs/index.html",
        "jobs/feed.xml",
        "sitemaps/jobs.xml",
    }
    assert (
        listed_slugs(root) == []
        and feed_ids(root) == []
        and sitemap_locs(root) == ["https://codes.example.org/jobs/"]
    )
    page = text(root, "jobs/short-lived-coder/index.html")
    assert "This job is closed." in page and robots_noindex(page) and job_posting(page) is None
    assert "No jobs are open right now." in text(root, "jobs/index.html")


def test_samples_switch_off_with_one_setting(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj")
    build(root, quiet=True, jobs=1, search=False)
    assert len(listed_slugs(root)) == 7
    site_yml = root / "content" / "site.yml"
    site_yml.write_text(site_yml.read_text() + "jobs:\n  samples: false\n")
    build(root, quiet=True, jobs=1, search=False)
    assert listed_slugs(root) == []
    assert not (root / "site" / "jobs" / "inpatient-coder-example-health").exists()
    assert (root / "site" / "jobs" / "index.html").is_file() and (
        root / "site" / "jobs" / "post" / "index.html"
    ).is_file()
    site_yml.write_text(site_yml.read_text().replace("samples: false", "enabled: false"))
    build(root, quiet=True, jobs=1, search=False)
    assert not (root / "site" / "jobs").exists()
    assert '<a href="/jobs/">' not in text(root, "index.html")
    assert "sitemaps/jobs.xml" not in text(root, "sitemap.xml")


def test_a_listing_error_stops_the_build_and_keeps_the_site(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj", jobs=False)
    add_listing(root, "good-coder")
    build(root, quiet=True, jobs=1, search=False)
    before = site_hashes(root)
    bad = add_listing(root, "bad-coder", posted="2026-12-01", through="2026-11-01")
    bad.write_text(bad.read_text().replace("required: [CPC]", "required: [CPCX]"))
    with pytest.raises(ContentErrors) as err:
        build(root, quiet=True, jobs=1, search=False)
    messages = [str(p) for p in err.value.problems.errors]
    assert "content/jobs/bad-coder.md:8: error: 'credentials.required': unknown value 'CPCX'" in messages[0]
    assert any(
        m.startswith("content/jobs/bad-coder.md:12: error: 'valid_through' (2026-11-01) is before")
        for m in messages
    )
    assert site_hashes(root) == before


def test_the_search_bundle_follows_the_board(tmp_path: Path, day: object) -> None:
    root = make_project(tmp_path / "proj")
    build(root, quiet=True, jobs=1)
    index = text(root, "lookup/index.json")
    assert '{"slug":"jobs","name":"Jobs","count":null,"pagefind":"/pagefind/jobs/","lookup":null}' in index
    assert (root / "site" / "pagefind" / "jobs" / "pagefind-entry.json").is_file()
    before = site_hashes(root)
    add_listing(root, "physician-practice-coder-real-clinic")
    result = build(root, quiet=True, jobs=1)
    assert result.mode == "jobs"
    changed = {
        p for p in before.keys() | site_hashes(root).keys() if before.get(p) != site_hashes(root).get(p)
    }
    assert all(is_job_output(p) for p in changed), changed
    assert any(p.startswith("pagefind/jobs/") for p in changed)
    assert not any(p.startswith(("pagefind/icd", "pagefind/cpt", "lookup/")) for p in changed)
    # A build without search leaves the bundle alone, and the next build with search brings it up to date.
    add_listing(root, "second-coder-real-clinic", title="Second Coder")
    before = site_hashes(root)
    assert build(root, quiet=True, jobs=1, search=False).mode == "jobs"
    after = site_hashes(root)
    assert {p for p in after if p.startswith("pagefind/jobs/")} == {
        p for p in before if p.startswith("pagefind/jobs/")
    }
    assert build(root, quiet=True, jobs=1).mode == "jobs"
    assert any(before.get(p) != h for p, h in site_hashes(root).items() if p.startswith("pagefind/jobs/"))
    assert build(root, quiet=True, jobs=1).mode == "noop"
