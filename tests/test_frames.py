"""Frames must reproduce plain Jinja2 output exactly, for every page of the sample site."""
from __future__ import annotations

from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from generator.build import load_inputs, load_models
from generator.fragments import AncestorCache, narrow
from generator.frames import FrameError, FrameRenderer
from generator.pages import common
from generator.render import build_assets, make_env, page_context, render_page, site_context


def test_every_sample_page_matches_plain_jinja(project) -> None:  # type: ignore[no-untyped-def]
    root: Path = project()
    loaded = load_inputs(root)
    models = load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True)
    cfg = loaded.cfg
    env = make_env(cfg.theme_dir)
    base = common(cfg, site_context(cfg, models), build_assets(cfg.theme_dir), "/", cfg.site_name, env)
    tpl = env.get_template("page.html")
    frames = FrameRenderer(tpl)
    checked = 0
    for model in models.values():
        cache = AncestorCache(model)
        for i, rec in enumerate(model.records):
            page = page_context(cfg, model, i, cache)
            top = {"canonical": page["canonical"], "title": f"{rec.display} — <&> {rec.title}"}
            plain = render_page(tpl, {**base, "page": page, **top})
            # Frames also write characters beyond Latin-1 as entities (see fragments.narrow).
            assert frames.render(base, page, top) == narrow(plain), rec.key
            assert frames.render(base, page, top).isascii() or "\u2014" not in frames.render(base, page, top)
            checked += 1
    assert checked > 40
    assert 1 < len(frames.frames) < checked  # pages share frames


def test_frame_refuses_non_string_values() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"p.html": "{% for x in page.items %}{{ x }}{% endfor %}"}), autoescape=True
    )
    frames = FrameRenderer(env.get_template("p.html"))
    with pytest.raises(FrameError, match=r"page\.items is a list"):
        frames.render({}, {"items": ["a", "b"]}, {"title": "", "canonical": ""})


def test_frame_escapes_like_jinja() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader(
            {"p.html": "<h1>{{ page.t }}</h1>{% if page.flag %}<p>{{ page.m }}</p>{% endif %}"}
        ),
        autoescape=True,
    )
    frames = FrameRenderer(env.get_template("p.html"))
    out = frames.render(
        {}, {"t": "a <b> & \"c\"", "flag": True, "m": Markup("<em>x</em>")}, {"title": "", "canonical": ""}
    )
    assert out == "<h1>a &lt;b&gt; &amp; &#34;c&#34;</h1><p><em>x</em></p>"
    assert (
        frames.render({}, {"t": "z", "flag": False, "m": Markup("")}, {"title": "", "canonical": ""})
        == "<h1>z</h1>"
    )
