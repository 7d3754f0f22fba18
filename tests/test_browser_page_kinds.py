"""Every kind of page with protected placeholders unlocks in real Chromium, and header pages follow
the rule (generator/free.py): browse pages and non-billable headers open without spending a view."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_helpers import browser, copy_project, js_errors, new_page, serve  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OPEN = "section.premium[data-state='open']"


def _kinds(site: Path) -> dict[str, str]:
    """One path per page kind that shows protected placeholders: (body class, main kind) → path."""
    found: dict[str, str] = {}
    for page in sorted(site.glob("*/*/index.html")):
        html = page.read_text(encoding="utf-8")
        if 'class="premium"' not in html:
            continue
        body = re.search(r'<body class="([a-z-]+) cs-([a-z0-9-]+)"', html)
        assert body is not None, page
        rel = str(page.parent.relative_to(site))
        detail = ("header" if "data-free" in html else "") if body.group(1) == "code-page" else (
            "chapter" if "/chapter-" in "/" + rel else "section")
        kind = f"{body.group(1)}/{body.group(2)}/{detail}"
        found.setdefault(kind, "/" + str(page.parent.relative_to(site)) + "/")
    return found


NOTE = "<excludes2><note>{what} notes that a coder needs (test)</note></excludes2>"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The sample project, with chapter- and section-level notes as the official file has them
    (the sample's browse pages otherwise have no protected sections)."""
    from conftest import DATA, make_project

    from generator.build import build

    top = tmp_path_factory.mktemp("kinds")
    xml = (DATA / "icd10cm-sample.xml").read_text(encoding="utf-8")
    xml = re.sub(r"(<chapter>\s*<name>\d+</name>\s*<desc>[^<]*</desc>)", lambda m: m.group(1) + NOTE.format(
        what="Chapter"), xml)
    xml = re.sub(r'(<section id="[^"]+">\s*<desc>[^<]*</desc>)', lambda m: m.group(1) + NOTE.format(
        what="Section"), xml)
    (top / "cm.xml").write_text(xml, encoding="utf-8")
    root = make_project(top / "proj", site_yml=(
        "site_name: coderef test\nbase_url: https://codes.example.org\n"
        "codesets: [icd-10-cm, icd-10-pcs, cpt, hcpcs]\n"
        f"sources:\n  icd10cm: {top / 'cm.xml'}\n  icd10pcs: {DATA / 'icd10pcs-sample.txt'}\n"
    ))
    build(root, quiet=True, jobs=1)
    for base in serve(copy_project(root, top / "served")):
        yield root, base


def test_every_page_kind_unlocks_without_error_boxes(browser: Any, served: Any) -> None:  # noqa: F811
    root, base = served
    kinds = _kinds(root / "site")
    # chapter and section browse pages, ICD-10-PCS browse pages, billable and header codes of each set
    assert {"browse-page/icd-10-cm/section", "code-page/icd-10-cm/", "code-page/icd-10-cm/header",
            "code-page/cpt/", "code-page/hcpcs/"} <= set(kinds), kinds
    page = new_page(browser, base)
    from playwright.sync_api import expect

    # One guest walks every free kind first: none of them may spend the one guest view.
    ordered = sorted(kinds.items(), key=lambda kv: "header" not in kv[0] and "browse" not in kv[0])
    free = [(kind, path) for kind, path in ordered if "browse" in kind or "header" in kind]
    assert len(free) >= 2, kinds
    for kind, path in free:
        page.goto(path)
        expect(page.locator(OPEN)).to_have_count(page.locator("section.premium").count())
        assert page.locator("section.premium .wall-error").count() == 0, kind
    # The first billable code still finds the guest view unspent.
    billable = next(p for k, p in ordered if "browse" not in k and "header" not in k)
    page.goto(billable)
    expect(page.locator(OPEN)).to_have_count(page.locator("section.premium").count())
    assert page.locator(".wall-error").count() == 0
    assert js_errors(page) == []
    # Every kind also unlocks for a visitor with views (a fresh guest per page).
    for kind, path in kinds.items():
        fresh = new_page(browser, base)
        fresh.goto(path)
        expect(fresh.locator(OPEN)).to_have_count(fresh.locator("section.premium").count())
        assert fresh.locator(".wall-error").count() == 0, kind
        assert js_errors(fresh) == [], (kind, js_errors(fresh))
        fresh.context.close()


def test_browse_pages_unlock_over_http_and_without_javascript(served: Any) -> None:
    _, base = served
    with httpx.Client(base_url=base) as c:
        assert c.post("/gate/unlock/icd-10-cm/S70-S79").status_code == 200  # before: 404
        assert c.post("/gate/unlock/cpt/27252").json()["views_left"] == 0  # the view was still there
        for path in ("/gate/page/icd-10-cm/S70-S79/", "/gate/page/icd-10-cm/S72/"):
            r = c.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")  # before: JSON
            assert "<!--premium:" in r.text and 'class="wall' not in r.text.split("<!--premium:", 1)[1]
        header = c.post("/gate/unlock/icd-10-cm/S72")
        assert header.status_code == 200 and header.json()["views_left"] == 0  # free, and still 0 left
