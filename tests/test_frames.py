"""Frames must reproduce plain Jinja2 output exactly, for every page of the sample site, and stop
the build, naming the template and the construct, where they cannot."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from markupsafe import Markup

from generator.build import build
from generator.fragments import AncestorCache, narrow
from generator.frames import FrameError, FrameRenderer, compile_fill
from generator.inputs import load_inputs
from generator.link import link_models
from generator.load import load_models
from generator.render import build_assets, make_env, page_context, render_page, site_context
from generator.theme import common


def test_every_sample_page_matches_plain_jinja(project) -> None:  # type: ignore[no-untyped-def]
    root: Path = project()
    loaded = load_inputs(root)
    models = link_models(load_models(loaded.cfg, loaded.pages, loaded.problems, quiet=True), loaded.problems)
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
    # Every value page.html receives is documented for theme authors.
    doc = (cfg.theme_dir / "templates" / "_fragments.md").read_text(encoding="utf-8")
    assert [k for k in page if f"`{k}`" not in doc] == []


def test_frame_refuses_non_string_values() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"p.html": "<ul>{{ page.items }}</ul>"}), autoescape=True
    )
    frames = FrameRenderer(env.get_template("p.html"))
    with pytest.raises(FrameError, match=r"p\.html: page\.items is a list"):
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


def test_compiled_fill_equals_the_plain_fill() -> None:
    """`compile_fill` (a frame's fill as one expression) prints every kind of value as `_fill` does:
    plain text escaped, beyond Latin-1 narrowed, Latin-1 kept, Markup as it is."""
    source = "<title>{{ title }}</title><p>{{ page.a }}|{{ page.b }}|{{ page.c }}</p>"
    env = jinja2.Environment(loader=jinja2.DictLoader({"p.html": source}), autoescape=True)
    frames = FrameRenderer(env.get_template("p.html"))
    values = [
        "plain", "a <b> & \"c\"", "caf\u00e9 \u00ae", "dash \u2014 and \u2019quote\u2019 <x>",
        Markup("<em>\u2014</em>"), Markup("<i>ok</i>"),
    ]
    for a in values:
        for b in values:
            page = {"a": a, "b": b, "c": "z"}
            top = {"title": "T \u2014 <t>", "canonical": ""}
            frame = frames._make({}, page)
            slots = [
                (frame[j].startswith("page."), frame[j].removeprefix("page."), frame[j + 1])
                for j in range(1, len(frame), 2)
            ]
            plain = FrameRenderer._fill(frame, slots, page, top)
            assert compile_fill(frame, slots)(page, top) == plain, (a, b)


# Constructs a frame cannot reproduce: found in the template before anything renders.
BREAKING = [
    ("{% if page.kind == 'chapter' %}<p>A chapter</p>{% endif %}", "{% if page.kind == 'chapter' %}",
     "page.kind is compared (==)"),
    ("<p>{{ page.title|upper }}</p>", "{{ page.title|upper }}", "page.title is filtered with |upper"),
    ("{% set t = page.short_title %}<p>{{ t }}</p>", "{% set t = page.short_title %}",
     "page.short_title is assigned"),
    ("{% macro m() %}{{ page.display[:3] }}{% endmacro %}{{ m() }}", "{{ page.display[:3] }}",
     "page.display is indexed"),
    ("<b>{{ title.strip() }}</b>", "{{ title.strip() }}", "title is indexed or has an attribute taken"),
]


@pytest.mark.parametrize(("snippet", "construct", "why"), BREAKING)
def test_breaking_construct_stops_the_build_naming_template_and_construct(
    project, snippet: str, construct: str, why: str  # type: ignore[no-untyped-def]
) -> None:
    root: Path = project()
    build(root, quiet=True, jobs=1)
    before = (root / "site" / "cpt" / "27252" / "index.html").read_bytes()
    page_html = root / "themes" / "default" / "templates" / "page.html"
    text = page_html.read_text()
    page_html.write_text(text.replace("{% block content %}\n", "{% block content %}\n" + snippet + "\n", 1))
    line = text[: text.index("{% block content %}")].count("\n") + 2
    with pytest.raises(FrameError) as exc:
        build(root, quiet=True, jobs=1)
    assert f"page.html:{line}: {construct}: {why}" in str(exc.value)
    assert "_fragments.md" in str(exc.value)
    assert (root / "site" / "cpt" / "27252" / "index.html").read_bytes() == before
    proc = subprocess.run(
        [sys.executable, "-m", "generator", "--root", str(root), "build"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 1
    assert f"build failed: page.html:{line}: {construct}" in proc.stderr


def test_allowed_constructs_pass_the_check() -> None:
    allowed = (
        "{{ page.a }}{{ page.b|safe }}{% if page.c and not page.d %}x{% elif page.e or page.f %}y{% endif %}"
        "{{ page.g or (page.h ~ ' z') }}{{ 'p' if page.i else 'q' }}{{ title }}{{ canonical }}"
        "{% for page in [1] %}{{ page + 1 }}{% endfor %}{% macro m(page) %}{{ page|upper }}{% endmacro %}"
    )
    env = jinja2.Environment(loader=jinja2.DictLoader({"p.html": allowed}), autoescape=True)
    FrameRenderer(env.get_template("p.html"))  # does not raise


def _shouting_env(source: str) -> jinja2.Environment:
    """A template whose global functions read the page behind the template's back (no static check
    sees them)."""
    env = jinja2.Environment(loader=jinja2.DictLoader({"p.html": source}), autoescape=True)
    env.globals["shout"] = jinja2.pass_context(lambda ctx: ctx["page"]["title"].upper())
    env.globals["is_chapter"] = jinja2.pass_context(lambda ctx: ctx["page"]["kind"] == "chapter")
    return env


def test_sentinel_left_in_output_stops_the_build() -> None:
    frames = FrameRenderer(_shouting_env("<h1>{{ shout() }}</h1>").get_template("p.html"))
    page = {"title": "Hip", "kind": "code"}
    changed = r"p\.html: a page value was changed before it was printed .*PAGE\.TITLE"
    with pytest.raises(FrameError, match=changed):
        frames.render(frames.template.environment.globals, page, {"title": "", "canonical": ""})


def test_frame_differing_from_plain_jinja_stops_the_build() -> None:
    env = _shouting_env("{% if is_chapter() %}<p>Chapter</p>{% endif %}")
    frames = FrameRenderer(env.get_template("p.html"))
    with pytest.raises(FrameError, match=r"p\.html: the frame of page /x/ differs from plain Jinja2"):
        page = {"title": "Hip", "kind": "chapter", "url": "/x/"}
        frames.render(frames.template.environment.globals, page, {"title": "", "canonical": ""})
