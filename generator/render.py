"""Rendering: Jinja2 templates of the theme turned into page bytes; no file I/O here.

Every page gets `site` (name, code sets with counts) and `assets` (fingerprinted URLs). A record page
also gets `page`, built by `page_context()`; its protected sections appear only as `{id, title}`
placeholders — the HTML of a protected section never reaches a template.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from . import urls
from .config import SiteConfig
from .link import CodeSetModel, ancestors
from .model import CODESET_NAMES, CPT, CodeRecord

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
    files: dict[str, bytes]  # relative output path -> bytes


def _fingerprint(files: dict[str, bytes], name: str, ext: str, data: bytes) -> str:
    digest = hashlib.blake2b(data, digest_size=5).hexdigest()
    rel = f"{urls.ASSETS_DIR}/{name}.{digest}.{ext}"
    files[rel] = data
    return "/" + rel


def build_assets(theme_dir: Path) -> Assets:
    """One fingerprinted CSS file (the theme's `static/css/*.css` joined in name order), the page
    script and the search module (loaded only when a visitor starts a search)."""
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
        files=files,
    )


def make_env(theme_dir: Path) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(theme_dir / "templates")),
        autoescape=True,
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        cache_size=-1,
    )
    env.globals["urls"] = urls
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


def page_context(cfg: SiteConfig, model: CodeSetModel, i: int) -> dict[str, Any]:
    """Everything a record page template may show. Protected section bodies are left out."""
    rec = model.records[i]
    cs = model.codeset
    recs = model.records
    path = urls.page_path(cs, rec.key)
    public = []
    protected = []
    for s in rec.sections:
        if cfg.is_protected(s.kind, s.protected):
            protected.append(Ctx({"id": s.id, "title": s.title}))
        else:
            public.append(Ctx({"id": s.id, "title": s.title, "html": s.html, "kind": s.kind}))
    crumbs = [Ctx({"label": CODESET_NAMES[cs], "url": urls.codeset_path(cs)})]
    for a in ancestors(model, i):
        crumbs.append(Ctx({"label": recs[a].display, "url": urls.page_path(cs, recs[a].key), "title": recs[a].title}))
    p = model.parent.get(i)
    prev = model.prev.get(i)
    nxt = model.next.get(i)
    descriptor_missing = cs == CPT and not rec.title
    ld: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "MedicalCode",
        "codeValue": rec.key,
        "codingSystem": CODESET_NAMES[cs],
        "inCodeSet": {"@type": "CategoryCodeSet", "name": CODESET_NAMES[cs]},
        "url": urls.absolute(cfg.base_url, path),
    }
    if rec.title:
        ld["name"] = rec.title
    if protected:
        ld["isAccessibleForFree"] = False
        ld["hasPart"] = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".premium"}
    return Ctx({
        "codeset": cs,
        "codeset_name": CODESET_NAMES[cs],
        "key": rec.key,
        "display": rec.display,
        "title": rec.title,
        "short_title": rec.short_title,
        "kind": rec.kind,
        "is_code": rec.is_code,
        "billable": rec.billable,
        "facts": rec.facts,
        "source": rec.source,
        "url": path,
        "canonical": urls.absolute(cfg.base_url, path),
        "breadcrumbs": crumbs,
        "parent": _ref(recs[p], cs) if p is not None else None,
        "children": [_ref(recs[c], cs) for c in model.children.get(i, ())],
        "prev": _ref(recs[prev], cs) if prev is not None else None,
        "next": _ref(recs[nxt], cs) if nxt is not None else None,
        "public_sections": public,
        "protected_sections": protected,
        "gate_page": urls.gate_page_path(cs, rec.key),
        "unlock_url": urls.gate_unlock_path(cs, rec.key),
        "is_cpt": cs == CPT,
        "descriptor_missing": descriptor_missing,
        "ama_notice": AMA_NOTICE if cs == CPT else "",
        "licence_note": CPT_LICENCE_NOTE if descriptor_missing else "",
        "jsonld": json.dumps(ld, separators=(",", ":"), ensure_ascii=False).replace("</", "<\\/"),
    })


def codeset_context(cfg: SiteConfig, model: CodeSetModel) -> dict[str, Any]:
    cs = model.codeset
    roots = [_ref(model.records[i], cs) for i in model.roots]  # Ctx
    for ref, i in zip(roots, model.roots):
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
