"""Search stage: a Pagefind full-text index and exact-code lookup files per code set, built from public text.

Only public sections of the model are read (`cfg.is_protected` decides), never rendered pages, so no
protected text or placeholder can reach an index file.

Pagefind writes one fragment file per indexed page and needs ~2 GB and a minute for 98k pages here,
so codes are indexed in groups: one Pagefind page holds up to GROUP_SIZE codes of whole families (an
ICD-10-CM category, the body parts of one ICD-10-PCS root operation), each code under its own
`<h2 id="KEY">` heading, and the titles of the families it starts as its Pagefind title (which Pagefind
ranks highest). 7th-character extensions are folded into their base code. search.js matches the
codes of the returned pages itself and turns each back into the code's own URL. Each code set gets
its own bundle (`/pagefind/<codeset>/`), merged in the browser with `mergeIndex`, so a rebuild
re-indexes only the code sets whose public content changed.

Layout of the cache (`out_dir`, kept between builds):
    <codeset>/state.json             which generation is current (and the schema it was built with)
    <codeset>/<generation>/pagefind/ the Pagefind bundle      -> site /pagefind/<codeset>/
    <codeset>/<generation>/lookup/   the lookup buckets       -> site /lookup/<codeset>/
    shared/index-<hash>.json         the list of code sets    -> site /lookup/index.json
A generation is named by the hash of its input, and is never rewritten once returned.
"""
from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pagefind_bin import get_executable

from . import lookup, urls
from .config import SiteConfig
from .errors import BuildError
from .link import CodeSetModel, ancestors
from .model import CODESET_NAMES, ICD10PCS, CodeRecord

SCHEMA = "2"  # bump when the indexed HTML or the file layout changes: every code set is re-indexed
GROUP_SIZE = 32
PAGEFIND_DIR = urls.PAGEFIND_DIR  # a generation's folders, named like the site's
LOOKUP_DIR = urls.LOOKUP_DIR
# Pagefind's own UI bundles are not used: search.js draws the results.
_SKIP = re.compile(r"^pagefind-(?:ui|modular-ui|component-ui|highlight)\.|^wasm\.unknown\.|^playground/")
# The ICD-10-CM importer repeats every ancestor's notes on each descendant as "From <node> — ..." blocks.
_INHERITED = re.compile(r"^From .{1,300} — ", re.MULTILINE)
SUMMARY_KINDS = ("summary", "description")


def pagefind_binary() -> Path:
    """The Pagefind executable shipped by the `pagefind[bin]` dependency."""
    try:
        path: Path = get_executable()
    except FileNotFoundError as exc:
        raise BuildError(
            f"the Pagefind binary is missing ({exc}): reinstall the 'pagefind[bin]' package"
        ) from None
    return path


# ---------------------------------------------------------------------------------------------
# Public text of a record


def own_text(text: str) -> str:
    """A section's text without the blocks inherited from ancestors (indexed on the ancestor's page)."""
    m = _INHERITED.search(text)
    return (text[: m.start()] if m else text).strip()


def public_texts(
    cfg: SiteConfig, rec: CodeRecord, cache: dict[tuple[str, bool | None, str], str] | None = None
) -> list[tuple[str, str, str]]:
    """(kind, title, text) of every public section of `rec`, in page order.

    `cache` (optional) remembers the own text per (kind, override, text): the importers share one
    string among the thousands of pages that inherit a note, so this is mostly dictionary hits."""
    out = []
    for s in rec.sections:
        ck = (s.kind, s.protected, s.text)
        text = cache.get(ck) if cache is not None else None
        if text is None:
            text = "" if cfg.is_protected(s.kind, s.protected) else own_text(s.text)
            if cache is not None:
                cache[ck] = text
        if text:
            out.append((s.kind, s.title, text))
    return out


def summary_of(texts: list[tuple[str, str, str]]) -> str:
    return next((t for kind, _, t in texts if kind in SUMMARY_KINDS), "")


@dataclass(slots=True)
class Doc:
    """One indexed record, ready to be written into a group page."""

    key: str
    heading: str
    body: list[tuple[str, str]]  # (section title, text)
    unit: str  # the family it is packed with (see `unit_of`)
    pack: str  # units sharing this are packed into the same pages
    labelled: bool = False  # the heading starts with a label ("Chapter 19 — ...") instead of the key
    suffixes: tuple[str, ...] = ()  # what the folded 7th-character extensions add to the title


def unit_of(model: CodeSetModel, i: int, anc: list[int]) -> str:
    """The family a record is indexed with: an ICD-10-CM category with all its codes, an ICD-10-PCS
    body part (the first four characters: "Resection of Sigmoid Colon"), the sibling browse nodes of one
    parent. A family's first page carries the family's title as its Pagefind title, so a query made of
    the family's words ranks that page (and so the family's head code) first."""
    recs = model.records
    rec = recs[i]
    if not rec.is_code:
        return "node:" + (recs[anc[-1]].key if anc else "")
    if model.codeset == ICD10PCS:
        return lookup.normalize(rec.key)[:4]
    top = next((a for a in anc if recs[a].is_code), i)
    return recs[top].key


def extension_suffix(parent: CodeRecord, rec: CodeRecord) -> str | None:
    """What a 7th-character extension adds to its base code's title ("initial encounter for closed
    fracture"), or None when `rec` is not such an extension of `parent`."""
    if not (rec.is_code and parent.is_code and parent.title and rec.title.startswith(parent.title + ", ")):
        return None
    # Only the 7th character ("S72.91XA" of "S72.91", via the placeholder X): "A03.9 Shigellosis,
    # unspecified" is a code of its own, not a variant of A03.
    if len(lookup.normalize(rec.key)) != 7 or len(lookup.normalize(parent.key)) >= 7:
        return None
    return rec.title[len(parent.title) + 2 :].strip() or None


def docs(cfg: SiteConfig, model: CodeSetModel) -> tuple[list[Doc], list[str]]:
    """Index documents and lookup titles (one per record), both in record order.

    A 7th-character extension without public text of its own is folded into its base code: its title
    repeats the base code's title, and 16 copies of the same words per base code made whole groups of
    extensions outrank the category a coder looks for. The lookup files still list every extension."""
    recs = model.records
    out: list[Doc] = []
    titles: list[str] = []
    cache: dict[tuple[str, bool | None, str], str] = {}
    by_key: dict[str, Doc] = {}
    folded: dict[str, list[str]] = {}
    for i, rec in enumerate(recs):
        texts = public_texts(cfg, rec, cache)
        title = lookup.display_title(rec, summary_of(texts))
        titles.append(title)
        body = [(t, x) for kind, t, x in texts if not (kind in SUMMARY_KINDS and x == title)]
        p = model.parent.get(i)
        if not body and p is not None and recs[p].key in by_key:
            suffix = extension_suffix(recs[p], rec)
            if suffix is not None:
                folded.setdefault(recs[p].key, []).append(suffix)
                continue
        anc = ancestors(model, i)
        name = rec.title or rec.short_title or title or rec.display
        labelled = rec.display != rec.key
        heading = f"{rec.display} — {name}" if labelled else name
        unit = unit_of(model, i, anc)
        # Families under the same browse node (a block, a PCS root operation) may share pages.
        pack = next((recs[a].key for a in reversed(anc) if not recs[a].is_code), "") if rec.is_code else unit
        doc = Doc(rec.key, heading, body, unit, pack, labelled)
        by_key[rec.key] = doc
        out.append(doc)
    for key, suffixes in folded.items():
        by_key[key].suffixes = tuple(suffixes)
    return out, titles


@dataclass(slots=True)
class Group:
    """One Pagefind page: up to GROUP_SIZE docs of whole families where they fit."""

    docs: list[Doc]
    titles: list[str]  # titles of the families that start in this page (its Pagefind title)


def _family_title(unit: list[Doc]) -> str:
    """A family's title: its head code's, or the words all its codes' titles start with (ICD-10-PCS)."""
    if len(unit) < 2 or unit[0].labelled:
        return ""
    if unit[0].key == unit[0].unit:
        return unit[0].heading
    common = unit[0].heading.split()
    for d in unit[1:]:
        words = d.heading.split()
        n = 0
        while n < min(len(common), len(words)) and common[n] == words[n]:
            n += 1
        common = common[:n]
    return " ".join(common).rstrip(",;:")


def groups(items: list[Doc], size: int = GROUP_SIZE) -> Iterator[Group]:
    """Pages of whole families: the families of one pack (e.g. the body parts of one PCS root
    operation) share pages up to `size` codes; a bigger family is split, its title on its first page."""
    packs: dict[str, dict[str, list[Doc]]] = {}
    for d in items:
        packs.setdefault(d.pack, {}).setdefault(d.unit, []).append(d)
    for units in packs.values():
        page: list[Doc] = []
        titles: list[str] = []
        for unit in units.values():
            if page and len(page) + len(unit) > size:
                yield Group(page, titles)
                page, titles = [], []
            title = _family_title(unit)
            if title:
                titles.append(title)
            for d in unit:
                if len(page) >= size:
                    yield Group(page, titles)
                    page, titles = [], []
                page.append(d)
        if page:
            yield Group(page, titles)


def group_html(codeset: str, group: Group) -> str:
    """A page Pagefind indexes: the code set filter, the families' titles as the page title, one
    weighted heading per code. Codes themselves are not indexed (the lookup files find codes): as words
    they only matched nonsense queries by prefix ("zzzzqqq" found GZ2ZZZZ)."""
    e = html.escape
    # An empty <title>: Pagefind would otherwise index the document title as every page's title.
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title> </title></head>'
        "<body><div data-pagefind-body>"
    ]
    if group.titles:
        parts.append(
            f'<span data-pagefind-meta="title[data-t]" data-t="{e("; ".join(group.titles))}"></span>'
        )
    # The only filter: search.js filters and counts by code set (each filter costs a download per query).
    parts.append(f'<span data-pagefind-filter="codeset:{e(codeset)}"></span>')
    seen: set[tuple[str, ...]] = set()
    for d in group.docs:
        # h3 marks a heading that starts with its label (search.js shows the label instead of the key).
        tag = "h3" if d.labelled else "h2"
        parts.append(f'<section><{tag} id="{e(d.key)}" data-pagefind-weight="10">{e(d.heading)}</{tag}>')
        for title, text in d.body:
            parts.append(f"<p><b>{e(title)}:</b> {e(text)}</p>")
        if d.suffixes and d.suffixes not in seen:
            # Once per page: the same list follows every base code of a category.
            seen.add(d.suffixes)
            parts.append(f"<p><b>With a 7th character:</b> {e('; '.join(d.suffixes))}</p>")
        parts.append("</section>")
    parts.append("</div></body></html>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Building one code set


@dataclass
class Prepared:
    codeset: str
    generation: str
    gen_dir: Path
    src_dir: Path | None  # the group pages to index; None when the generation already exists


def _write_lookup(model: CodeSetModel, titles: list[str], dest: Path, h: hashlib.blake2b) -> None:
    buckets = lookup.split(lookup.entries(model, titles))
    dest.mkdir(parents=True, exist_ok=True)
    for prefix, group in buckets.items():
        data = lookup.bucket_json(model.codeset, prefix, group)
        h.update(prefix.encode() + b"\0" + data)
        (dest / f"{prefix}.json").write_bytes(data)
    prefixes = list(buckets)
    doc = {"codeset": model.codeset, "buckets": prefixes, "count": model.code_count}
    (dest / "index.json").write_bytes(json.dumps(doc, separators=(",", ":")).encode())


def prepare(cfg: SiteConfig, model: CodeSetModel, cs_dir: Path, tmp: Path) -> Prepared:
    """Writes the lookup files and the group pages of one code set into a fresh generation folder."""
    items, titles = docs(cfg, model)
    h = hashlib.blake2b(f"{SCHEMA}|{GROUP_SIZE}|{model.codeset}".encode(), digest_size=8)
    staging = Path(tempfile.mkdtemp(prefix="gen-", dir=cs_dir))
    _write_lookup(model, titles, staging / LOOKUP_DIR, h)
    src = tmp / model.codeset
    for n, group in enumerate(groups(items)):
        page = group_html(model.codeset, group).encode()
        h.update(page)
        d = src / "g" / f"{n:05d}"
        d.mkdir(parents=True)
        (d / "index.html").write_bytes(page)
    generation = h.hexdigest()
    gen_dir = cs_dir / generation
    if (gen_dir / "done").exists():
        shutil.rmtree(staging)
        return Prepared(model.codeset, generation, gen_dir, None)
    shutil.rmtree(gen_dir, ignore_errors=True)  # an interrupted earlier attempt
    os.replace(staging, gen_dir)
    return Prepared(model.codeset, generation, gen_dir, src)


def run_pagefind(jobs: list[Prepared]) -> None:
    """Runs one Pagefind process per code set, side by side (each is multi-threaded)."""
    binary = str(pagefind_binary())
    procs = []
    for job in jobs:
        assert job.src_dir is not None
        cmd = [
            binary, "--site", str(job.src_dir), "--output-path", str(job.gen_dir / PAGEFIND_DIR),
            "--force-language", "en", "--quiet",
        ]
        procs.append((job, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    failed = []
    for job, proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            failed.append(
                f"{job.codeset}: pagefind exited with {proc.returncode}: "
                f"{out.decode(errors='replace')[-2000:]}"
            )
        else:
            (job.gen_dir / "done").write_text(job.generation)
    if failed:
        raise BuildError("search index failed — " + "; ".join(failed))


# ---------------------------------------------------------------------------------------------
# The stage


def _state(cs_dir: Path) -> str | None:
    """The current generation of a code set, if its files are complete and of this schema."""
    try:
        state = json.loads((cs_dir / "state.json").read_text())
    except (OSError, ValueError):
        return None
    gen = state.get("generation") if isinstance(state, dict) and state.get("schema") == SCHEMA else None
    if not isinstance(gen, str) or not (cs_dir / gen / "done").exists():
        return None
    return gen


def _set_state(cs_dir: Path, generation: str) -> None:
    tmp = cs_dir / "state.json.tmp"
    tmp.write_text(json.dumps({"schema": SCHEMA, "generation": generation}))
    os.replace(tmp, cs_dir / "state.json")
    for old in cs_dir.iterdir():  # earlier generations; published copies are hard links and survive
        if old.is_dir() and old.name != generation:
            shutil.rmtree(old, ignore_errors=True)


def _files(codeset: str, gen_dir: Path) -> list[tuple[str, Path]]:
    out = []
    bundle = gen_dir / PAGEFIND_DIR
    for p in bundle.rglob("*"):
        rel = p.relative_to(bundle).as_posix()
        if p.is_file() and not _SKIP.search(rel):
            out.append((urls.relative(urls.pagefind_path(codeset)) + rel, p))
    for p in (gen_dir / LOOKUP_DIR).iterdir():
        out.append((urls.relative(urls.lookup_path(codeset)) + p.name, p))
    return out


def _site_index(out_dir: Path, codesets: list[str], models: dict[str, CodeSetModel], jobs: bool) -> Path:
    """`/lookup/index.json`: the code sets with a search index, for search.js, and the job board's
    bundle when it is on (written by generator/jobs/search.py; no code lookup). Content-addressed."""
    doc: dict[str, list[dict[str, object]]] = {
        "codesets": [
            {
                "slug": cs,
                "name": CODESET_NAMES.get(cs, cs),
                "count": models[cs].code_count,
                "pagefind": urls.pagefind_path(cs),
                "lookup": urls.lookup_path(cs),
            }
            for cs in codesets
        ]
    }
    if jobs:
        doc["codesets"].append(
            {"slug": urls.JOBS_SEARCH, "name": "Jobs", "count": None,
             "pagefind": urls.pagefind_path(urls.JOBS_SEARCH), "lookup": None}
        )
    data = json.dumps(doc, separators=(",", ":")).encode()
    shared = out_dir / "shared"
    shared.mkdir(parents=True, exist_ok=True)
    path = shared / f"index-{hashlib.blake2b(data, digest_size=8).hexdigest()}.json"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    for old in shared.glob("index-*.json"):
        if old != path:
            old.unlink()
    return path


def index_codesets(
    cfg: SiteConfig,
    models: dict[str, CodeSetModel],
    out_dir: Path,
    changed: set[str],
    *,
    job_board: bool = False,
) -> dict[str, list[tuple[str, Path]]]:
    """Indexes the code sets in `changed` (and any without a usable index in `out_dir`); `job_board` lists
    the job board's bundle (published by the build's jobs stage) in `/lookup/index.json`. Returns, per
    code set, every (site path, file) to publish, sorted."""
    # An enabled code set without records (no data imported, no pages yet) has nothing to search, and
    # Pagefind refuses to index an empty folder.
    codesets = [cs for cs in cfg.codesets if cs in models and models[cs].records]
    out_dir.mkdir(parents=True, exist_ok=True)
    current: dict[str, str] = {}
    todo = []
    for cs in codesets:
        gen = _state(out_dir / cs)
        if gen is None or cs in changed:
            todo.append(cs)
        else:
            current[cs] = gen
    if todo:
        with tempfile.TemporaryDirectory(prefix="pages-", dir=out_dir) as tmp:
            jobs = []
            for cs in todo:
                cs_dir = out_dir / cs
                cs_dir.mkdir(parents=True, exist_ok=True)
                jobs.append(prepare(cfg, models[cs], cs_dir, Path(tmp)))
            run_pagefind([j for j in jobs if j.src_dir is not None])
        for job in jobs:
            _set_state(out_dir / job.codeset, job.generation)
            current[job.codeset] = job.generation
    index = _site_index(out_dir, codesets, models, job_board)
    result: dict[str, list[tuple[str, Path]]] = {}
    for cs in codesets:
        files = _files(cs, out_dir / cs / current[cs])
        files.append((urls.relative(urls.lookup_index_path()), index))
        result[cs] = sorted(files)
    return result
