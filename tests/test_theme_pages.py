"""The theme's static pages as built: markup contract, CPT licensing, meter rule, forms, one CSS + one JS."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

CODE_PAGES = ["cpt/27252", "hcpcs/E0601", "icd-10-cm/S72.001A", "icd-10-cm/S72.0"]


def read(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def page(site: Path, key: str) -> str:
    return read(site, f"{key}/index.html")


@pytest.fixture(scope="module")
def site(small_site: Path) -> Path:
    return small_site / "site"


def test_protected_sections_follow_the_markup_contract_and_hold_no_protected_text(site: Path) -> None:
    html = page(site, "cpt/27252")
    assert '<main id="main" class="wrap " data-codeset="cpt" data-code="27252">' in html
    ids = re.findall(
        r'<section class="premium" id="s-([^"]+)" data-section="\1" aria-labelledby="h-\1">', html
    )
    assert ids == ["coding-tips", "modifiers", "crosswalk"]
    for sid in ids:
        block = re.search(
            rf'<h2 id="h-{sid}">[^<]+<span class="icon icon-lock" aria-hidden="true"></span></h2>'
            rf'\s*<div class="premium-body">\n<!--premium:{sid}-->\n'
            rf'(.*?)\n<!--/premium:{sid}-->\n\s*</div>\s*</section>', html, re.DOTALL,
        )
        assert block, f"section {sid} lacks the premium markers"
        wall = block.group(1)
        assert "Register to view content" in wall
        assert 'href="/gate/page/cpt/27252/#s-' + sid + '"' in wall  # the no-JavaScript path
        assert 'href="/register/?next=/cpt/27252/"' in wall
    # Protected text (content/codes/cpt/27252.md) never reaches the static page; public text does.
    assert "The anesthesia must be documented" not in html
    assert "RT / LT" not in html
    assert "The hip has come out of its socket" in html


def test_cpt_page_shows_no_descriptor_but_the_licence_note_and_ama_notice(site: Path) -> None:
    html = page(site, "cpt/27252")
    assert re.search(r'<h1 id="page-title"><span class="h1-code">CPT® 27252</span></h1>', html)
    assert "Official descriptor not shown." in html
    assert "CPT® is a registered trademark of the American Medical Association" in html
    assert "Putting a dislocated hip back in place" in html  # the plain-language summary
    hcpcs = page(site, "hcpcs/E0601")
    assert "American Medical Association" not in hcpcs
    assert re.search(
        r'<span class="h1-code">E0601</span> <span class="h1-title">Continuous positive airway', hcpcs
    )


@pytest.mark.parametrize("key", [*CODE_PAGES, "icd-10-cm/chapter-19"])
def test_every_record_page_has_breadcrumbs_status_and_a_source_line(site: Path, key: str) -> None:
    html = page(site, key)
    assert '<nav class="breadcrumbs" aria-label="Breadcrumb">' in html
    assert re.search(r'<p class="source-line"><strong>Source:</strong> \S', html)
    assert html.count("<h1") == 1
    assert '<script type="application/ld+json">{' in html


def test_hierarchy_and_neighbours_link_to_real_pages(site: Path) -> None:
    html = page(site, "icd-10-cm/S72.001A")
    assert '<span class="badge badge-ok">Billable</span>' in html
    links = set(re.findall(r'href="(/icd-10-cm/[^"#?]+/)"', html))
    assert "/icd-10-cm/S72.001/" in links  # the parent
    assert re.search(r'rel="(prev|next)"', html)
    for link in links:
        assert (site / link.strip("/") / "index.html").is_file(), f"{link} is linked but not built"
    header = page(site, "icd-10-cm/S72.0")
    assert "Not billable" in header


def test_one_fingerprinted_css_and_js_and_no_third_party_requests(site: Path) -> None:
    for rel in ["index.html", "register/index.html", "cpt/27252/index.html", "404.html"]:
        html = read(site, rel)
        css = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)
        js = re.findall(r'<script type="module" src="([^"]+)" data-search-src="([^"]+)"></script>', html)
        assert len(css) == 1 and re.fullmatch(r"/assets/coderef\.[0-9a-f]{8,}\.css", css[0]), css
        assert len(js) == 1 and re.fullmatch(r"/assets/coderef\.[0-9a-f]{8,}\.js", js[0][0]), js
        assert re.fullmatch(r"/assets/search\.[0-9a-f]{8,}\.js", js[0][1])
        assert html.count("<script") == html.count("application/ld+json") + 1
        requests = re.findall(
            r'(?:src|action)="(?:https?:)?//|<link (?!rel="canonical")[^>]*href="(?:https?:)?//', html
        )
        sources = requests
        assert not sources, f"{rel} loads something from another origin"
    asset_css = next((site / "assets").glob("coderef.*.css")).read_text(encoding="utf-8")
    assert "@import" not in asset_css and "url(http" not in asset_css and "@font-face" not in asset_css
    asset_js = next((site / "assets").glob("coderef.*.js")).read_bytes()
    assert len(asset_js) < 24_000, "the page script stays small"


def test_header_search_form_keeps_the_ids_the_search_module_needs(site: Path) -> None:
    html = page(site, "cpt/27252")
    assert (
        '<form class="site-search site-search-header" role="search" aria-label="Site search" '
        'action="/search/" method="get">'
    ) in html
    assert '<label for="site-search-q" class="visually-hidden">Search codes</label>' in html
    assert re.search(
        r'<input id="site-search-q" name="q" type="search"[^>]*aria-controls="site-search-results">', html
    )
    assert '<div id="site-search-results" class="search-results" hidden></div>' in html
    home = read(site, "index.html")
    assert home.count('id="site-search-q"') == 1  # the home page's big search box replaces the header's


def test_register_and_login_forms_post_to_the_gate_with_password_manager_hints(site: Path) -> None:
    reg = read(site, "register/index.html")
    assert '<form class="auth-form" method="post" action="/gate/register" data-auth-form>' in reg
    assert re.search(r'<input id="reg-email" name="email" type="email" autocomplete="email" required', reg)
    assert re.search(
        r'<input id="reg-password" name="password" type="password" autocomplete="new-password"', reg
    )
    assert '<input type="hidden" name="next" value="">' in reg
    login = read(site, "login/index.html")
    assert 'action="/gate/login"' in login
    assert 'autocomplete="current-password"' in login
    assert '<label for="login-email">Email</label>' in login
    account = read(site, "account/index.html")
    assert 'href="/gate/account"' in account  # the no-JavaScript account page


def test_home_lists_code_sets_with_counts_and_releases(site: Path) -> None:
    home = read(site, "index.html")
    for slug in ("icd-10-cm", "icd-10-pcs", "cpt", "hcpcs"):
        assert f'<a href="/{slug}/">' in home
    assert re.search(r'<p class="cs-count"><strong>\d[\d,]*</strong> codes?</p>', home)
    assert "ICD-10-CM FY" in home


def test_meter_rule_is_computed_from_the_configured_plans(project: Callable[..., Path]) -> None:
    from generator.build import build

    root = project(
        site_yml="site_name: t\ncodesets: [cpt]\nmeter:\n  plans: {guest: 2, free: 10, paid: null}\n"
    )
    build(root, quiet=True, jobs=1)
    html = (root / "site" / "cpt" / "27252" / "index.html").read_text(encoding="utf-8")
    assert "Guest accounts are limited to 2 page views. Register free account to get 8 more views." in html
    assert "data-plan-guest" not in html  # the script gets its words from the gate (generator/wording.py)
