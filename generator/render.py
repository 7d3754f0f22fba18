"""Rendering: Jinja2 templates of the theme turned into page bytes; no file I/O here.

Every page gets `site` (name, code sets with counts) and `assets` (fingerprinted URLs). A record page
also gets `page`, built by `page_context()`; its protected sections appear only as `{id, title}`
placeholders — the HTML of a protected section never reaches a template.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import jinja2
from jinja2.runtime import new_context
from markupsafe import Markup

from . import urls, wording
from .config import SiteConfig
from .fragments import (
    AncestorCache,
    child_items,
    facts,
    pager,
    premium_block,
    premium_block_parts,
    premium_links,
    public_block,
    record_meta,
    record_title,
    toc_item,
)
from .free import is_free
from .link import CodeSetModel
from .model import CODESET_NAMES, CPT, CodeRecord, Section

AMA_NOTICE = (
    "CPT® is a registered trademark of the American Medical Association (AMA). CPT codes, descriptions "
    "and other data only are copyright © American Medical Association. All rights reserved. "
    "Applicable FARS/DFARS restrictions apply to government use."
)
CPT_LICENCE_NOTE = (
    "The official CPT® descriptor is copyrighted by the AMA and is shown only where the site operator "
    "holds an AMA licence and has imported the licensed CPT data file."
)


class Ctx(dict[str, Any]):
    """A template context value: a dict whose keys also read as attributes.

    Jinja's `a.b` tries getattr before getitem; on a plain dict that costs a raised and caught
    AttributeError per lookup, a third of the render time of a code page.
    """

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def render_page(tpl: jinja2.Template, ctx: dict[str, Any]) -> str:
    """Renders `tpl` with `ctx` as its whole context (environment globals must already be in it).

    `Template.render` merges the environment's globals (a ChainMap) into a new dict on every call,
    which costs ~15 µs a page; a shared context skips it.
    """
    context = new_context(tpl.environment, tpl.name, tpl.blocks, ctx, shared=True)
    return "".join(tpl.root_render_func(context))


def to_ctx(value: Any) -> Any:
    """Recursively turns dicts (e.g. read back from JSON) into `Ctx`."""
    if isinstance(value, dict):
        return Ctx({k: to_ctx(v) for k, v in value.items()})
    if isinstance(value, list):
        return [to_ctx(v) for v in value]
    return value


@dataclass(frozen=True)
class Assets:
    css: str
    js: str
    search: str
    jobs: str  # the job board's script (filters, the posting form)
    files: dict[str, bytes]  # relative output path -> bytes


def _fingerprint(files: dict[str, bytes], name: str, ext: str, data: bytes) -> str:
    digest = hashlib.blake2b(data, digest_size=5).hexdigest()
    path = urls.asset_path(f"{name}.{digest}.{ext}")
    files[urls.relative(path)] = data
    return path


def build_assets(theme_dir: Path) -> Assets:
    """One fingerprinted CSS file (the theme's `static/css/*.css` joined in name order), the page
    script, the search module (loaded only when a visitor starts a search) and the job board's script."""
    static = theme_dir / "static"
    files: dict[str, bytes] = {}
    css = b"\n".join(p.read_bytes() for p in sorted((static / "css").glob("*.css")))
    js = (static / "coderef.js").read_bytes()
    search_path = static / "search.js"
    search = search_path.read_bytes() if search_path.exists() else b"export function init() {}\n"
    return Assets(
        css=_fingerprint(files, "coderef", "css", css),
        js=_fingerprint(files, "coderef", "js", js),
        search=_fingerprint(files, "search", "js", search),
        jobs=_fingerprint(files, "jobs", "js", (static / "jobs.js").read_bytes()),
        files=files,
    )


def frozen(value: Any) -> Any:
    """A hashable stand-in for a JSON-like value (dicts and lists become tuples), equal for equal values."""
    if isinstance(value, dict):
        return ("dict", tuple(sorted((k, frozen(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(map(frozen, value)))
    hash(value)  # anything else must be hashable already: fail here, not with a wrong cache hit
    return (type(value).__name__, value)  # True == 1, but the templates may print them differently


def make_env(theme_dir: Path, cache_dir: Path | None = None) -> jinja2.Environment:
    """The theme's templates. With `cache_dir`, compiled templates are kept there between runs (Jinja
    checks each against its source): compiling the job board's templates is most of a jobs-only publish."""
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(theme_dir / "templates")),
        bytecode_cache=jinja2.FileSystemBytecodeCache(str(cache_dir)) if cache_dir is not None else None,
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        cache_size=-1,
    )
    env.globals["urls"] = urls
    cache: dict[tuple[Any, ...], Markup] = {}

    def once(name: str, *args: Any) -> Markup:
        """Calls a macro of `_macros.html` once per build and reuses its output.

        For markup that depends only on its arguments (the search form, the meter rule), which
        every one of the site's pages repeats. Keyed on the arguments' values.
        """
        key = (name, *map(frozen, args))
        hit = cache.get(key)
        if hit is None:
            macro = getattr(env.get_template("_macros.html").module, name)
            hit = cache[key] = Markup(macro(*args))
        return hit

    env.globals["once"] = once
    return env


def site_context(cfg: SiteConfig, models: dict[str, CodeSetModel]) -> dict[str, Any]:
    codesets = []
    for slug in cfg.codesets:
        m = models.get(slug)
        if m is None:
            continue
        release = next((r.source for r in m.records if r.is_code and r.source), "")
        codesets.append(
            {
                "slug": slug,
                "name": CODESET_NAMES[slug],
                "url": urls.codeset_path(slug),
                "count": m.code_count,
                "release": release,
            }
        )
    return {
        "name": cfg.site_name,
        "tagline": cfg.tagline,
        "base_url": cfg.base_url.rstrip("/"),
        "codesets": codesets,
        "auto_unlock": cfg.meter.auto_unlock,
        "plans": cfg.meter.plans,
        "meter_rule": wording.rule(cfg.meter, "guest"),  # the rule a guest sees without JavaScript
        "jobs": cfg.jobs.enabled,  # the header's "Jobs" link
        "assistant": cfg.assistant.enabled,
    }


def _ref(rec: CodeRecord, codeset: str) -> Ctx:
    return Ctx({
        "key": rec.key,
        "display": rec.display,
        "title": rec.title,
        "url": urls.page_path(codeset, rec.key),
        "billable": rec.billable,
        "kind": rec.kind,
    })


def _link(rec: CodeRecord, codeset: str) -> dict[str, str]:
    """What the pager shows of a neighbour (a plain dict: `fragments.pager` reads it, no template)."""
    return {"url": urls.page_path(codeset, rec.key), "display": rec.display, "title": rec.title}


_json = json.encoder.encode_basestring_ascii  # ASCII JSON: no entity decoding happens in <script>


def forget_fragments(cache: AncestorCache, sections: list[Section]) -> None:
    """Drops what the cache keeps of sections built for one page (premium sections are built per
    page: no other page shares them, and the entries would keep their HTML alive)."""
    for s in sections:
        cache.sections.pop(id(s), None)


def wall_text(cfg: SiteConfig) -> str:
    """The static wall's sentence, from the configured plans (the page script refines it)."""
    return wording.static_wall(cfg.meter)


_markup = functools.partial(str.__new__, Markup)  # Markup(s) without its Python-level __new__
_EMPTY = _markup("")
# A section's markup (see `page_context`): protected or not, its block (public: the whole block;
# protected: the parts around the page's links, `fragments.premium_block`), its contents entry.
SectionParts = tuple[bool, "str | tuple[str, str, str, str]", str]


def _section_parts(cfg: SiteConfig, s: Section, wall: str) -> SectionParts:
    if cfg.is_protected(s.kind, s.protected):
        return True, premium_block_parts(s.id, s.title, wall), toc_item(s.id, s.title, locked=True)
    return False, public_block(s.id, s.kind, s.title, s.html), toc_item(s.id, s.title, locked=False)


class _CodesetValues(NamedTuple):
    """What every record page of one code set shares (see `_codeset_values`)."""

    name: str
    url: str
    is_cpt: bool
    ama_notice: str
    ld_start: str  # the JSON-LD up to the code's value
    ld_middle: str  # from after the code's value up to the canonical URL


@functools.cache
def _codeset_values(cs: str) -> _CodesetValues:
    name = CODESET_NAMES[cs]
    return _CodesetValues(
        name=name, url=urls.codeset_path(cs), is_cpt=cs == CPT, ama_notice=AMA_NOTICE if cs == CPT else "",
        ld_start='{"@context":"https://schema.org","@type":"MedicalCode","codeValue":',
        ld_middle=(',"codingSystem":' + _json(name) + ',"inCodeSet":{"@type":"CategoryCodeSet","name":'
                   + _json(name) + '},"url":'),
    )


_PAYWALLED_LD = (
    ',"isAccessibleForFree":false,"hasPart":{"@type":"WebPageElement","isAccessibleForFree":false,'
    '"cssSelector":".premium"}'
)


def page_context(
    cfg: SiteConfig, model: CodeSetModel, i: int, cache: AncestorCache | None = None, wall: str | None = None
) -> Ctx:
    """Everything a record page template may show. Protected section bodies are left out.

    `cache` (one per code set and process, see `fragments.AncestorCache`) shares fragments between
    pages; `wall` is `wall_text(cfg)`, the same for every page of a build. Run once per record
    page of the site: what every page of a code set shares comes from `_codeset_values`.
    """
    if cache is None:
        cache = AncestorCache(model)
    if wall is None:
        wall = wall_text(cfg)
    rec = model.records[i]
    cs = model.codeset
    shared = _codeset_values(cs)
    path, display_html, title_html = cache.ref(i)
    blocks: list[str] = []
    toc: list[str] = []
    locked: list[str] = []
    premium: list[tuple[str, str, str, str]] = []
    known = cache.sections
    for s in rec.sections:
        hit = known.get(id(s))
        if hit is None and not s.html:
            skey = (s.id, s.kind, s.title, s.protected)
            parts = cache.empty_sections.get(skey)
            if parts is None:
                parts = cache.empty_sections[skey] = _section_parts(cfg, s, wall)
            hit = (s, parts)
        elif hit is None:  # the entry keeps `s` alive: its id cannot be reused while the entry lives
            hit = known[id(s)] = (s, _section_parts(cfg, s, wall))
        is_protected, block, item = hit[1]
        if is_protected:
            premium.append(block)
            locked.append(item)
        else:
            blocks.append(block)
            toc.append(item)
    p = model.parent.get(i)
    prev = model.prev.get(i)
    nxt = model.next.get(i)
    crumbs, tree = cache.get(p)
    key, title, short_title, is_code = rec.key, rec.title, rec.short_title, rec.is_code
    display = rec.display
    is_cpt = shared.is_cpt
    descriptor_missing = is_cpt and not title
    canonical = urls.absolute(cfg.base_url, path)
    # JSON-LD by hand: json.dumps of a dict costs 5x more, 178k times.
    ld = "".join((
        shared.ld_start, _json(key), shared.ld_middle, _json(canonical),
        ',"name":' + _json(title) if title else "", _PAYWALLED_LD if premium else "", "}",
    ))
    gate_page, unlock_url = urls.gate_paths(cs, key)
    child_list = model.children.get(i, ())
    if is_code:
        name = title or short_title
        description = (
            f"{shared.name} {display}{': ' + name if name else ''}. Hierarchy, notes and coding guidance."
        )
    else:
        description = (
            f"{shared.name} {display}{': ' + title if title else ''}. Browse its {len(child_list)} entries."
        )
    billable, source, change, change_label = rec.billable, rec.source, rec.change, rec.change_label
    meta_key = (is_code, rec.kind, billable, source, change, change_label)
    meta = cache.heads.get(meta_key)
    if meta is None:
        meta = cache.heads[meta_key] = record_meta(
            codeset_url=shared.url, codeset_name=shared.name, is_cpt=is_cpt,
            is_code=is_code, kind=rec.kind, billable=billable, source=source,
            change=change, change_label=change_label,
        )
    if premium:
        register, login = premium_links(path)
        premium_html = _markup("".join([premium_block(b, gate_page, register, login) for b in premium]))
    else:
        premium_html = _EMPTY
    licence_note = CPT_LICENCE_NOTE if descriptor_missing else ""
    return Ctx({
        "codeset": cs,
        "codeset_name": shared.name,
        "codeset_url": shared.url,
        "description": description,
        "key": key,
        "display": display,
        "title": title,
        "short_title": short_title,
        "kind": rec.kind,
        "is_code": is_code,
        "free": is_free(rec),  # opens without spending a view (generator/free.py)
        "billable": billable,
        "facts": facts(rec.facts, cache.fact_rows),
        "source": source,
        "url": path,
        "canonical": canonical,
        "crumb_items": _markup(crumbs),
        "tree_items": _markup(tree),
        "has_parent": p is not None,
        "has_children": bool(child_list),
        "has_toc": len(toc) + len(locked) > 1,
        "child_items": _markup(child_items(cache, i, with_billable=not is_code)) if child_list else "",
        "pager": pager(
            cache.ref(prev) if prev is not None else None,
            cache.ref(nxt) if nxt is not None else None,
        ),
        "public_blocks": _markup("".join(blocks)),
        "head": _markup(meta + record_title(
            descriptor_missing=descriptor_missing, display_html=display_html, title_html=title_html,
            title=title, short_title=short_title, licence_note=licence_note,
        )),
        "premium_blocks": premium_html,
        "toc_items": _markup("".join(toc + locked)),
        "gate_page": gate_page,
        "unlock_url": unlock_url,
        "is_cpt": is_cpt,
        "descriptor_missing": descriptor_missing,
        "ama_notice": shared.ama_notice,
        "licence_note": licence_note,
        "jsonld": _markup(ld.replace("</", "<\\/")),
    })


def codeset_context(cfg: SiteConfig, model: CodeSetModel) -> dict[str, Any]:
    cs = model.codeset
    roots = [_ref(model.records[i], cs) for i in model.roots]  # Ctx
    for ref, i in zip(roots, model.roots, strict=True):
        ref["child_count"] = len(model.children.get(i, ()))
    release = next((r.source for r in model.records if r.is_code and r.source), "")
    return Ctx({
        "codeset": cs,
        "codeset_name": CODESET_NAMES[cs],
        "url": urls.codeset_path(cs),
        "canonical": urls.absolute(cfg.base_url, urls.codeset_path(cs)),
        "roots": roots,
        "count": model.code_count,
        "release": release,
        "is_cpt": cs == CPT,
        "ama_notice": AMA_NOTICE if cs == CPT else "",
    })
