"""HCPCS Level II modifier pages (generator/modifier_pages.py), from the real January 2020 CMS file."""
from __future__ import annotations

from pathlib import Path

from conftest import make_project, shared_data

from generator.config import load_config
from generator.errors import Problems
from generator.link import CodeSetModel
from generator.modifier_pages import modifier_pages
from generator.render import site_context
from generator.theme import Theme


def _pages(tmp_path: Path, path: Path) -> dict[str, str]:
    site_yml = f"codesets: [hcpcs]\nsources:\n  hcpcs-modifiers: {path}\n"
    root = make_project(tmp_path / "proj", site_yml=site_yml, pages=False, jobs=False)
    cfg = load_config(root, Problems())
    models = {"hcpcs": CodeSetModel("hcpcs", [])}
    theme = Theme.load(cfg, site_context(cfg, models))
    return {rel: data.decode() for rel, data in modifier_pages(theme, models)}


def test_every_modifier_of_the_2020_file_has_a_page(tmp_path: Path) -> None:
    files = _pages(tmp_path, shared_data() / "hcpcs" / "HCPC2020_ANWEB_w_disclaimer.txt.gz")
    mods = [rel for rel in files if rel.startswith("hcpcs/modifiers/") and rel.count("/") == 3]
    assert len(mods) == 369 and "hcpcs/modifiers/index.html" in files
    xs = files["hcpcs/modifiers/XS/index.html"]
    assert '<span class="h1-code">XS</span> <span class="h1-title">Separate structure, a service' in xs
    assert "XS is an NCCI-associated modifier" in xs and "HCPCS Level II 2020, CMS" in xs
    assert "<dt>Effective date</dt><dd>2015-01-01</dd>" in xs
    lt = files["hcpcs/modifiers/LT/index.html"]
    assert "NCCI-associated" in lt
    ga = files["hcpcs/modifiers/GA/index.html"]
    assert "NCCI-associated" not in ga
    listing = files["hcpcs/modifiers/index.html"]
    assert listing.count('<li><a href="/hcpcs/modifiers/') == 369
    # Terminated modifiers say so in their header and in the list.
    listed = "hcpcs/modifiers/index.html"
    ended = [rel for rel, html in files.items() if "badge-terminated" in html and rel != listed]
    assert ended and all("Termination date" in files[rel] for rel in ended)
