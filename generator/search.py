"""Search stage: a word index and exact-code lookup files per code set, built from public text.

Only public sections of the model are read (`cfg.is_protected` decides), never rendered pages, so no
protected text or placeholder can reach an index file. Besides titles and public text, the reference
books feed the word index: index paths, Neoplasm and Drug table rows, PCS index terms and definitions
(`generator.words.entries`), with the project's synonyms and abbreviations
(`content/search/synonyms.yml`) applied as it is built.

7th-character extensions without text of their own are folded into their base code: their titles
repeat the base code's, and 16 copies of the same words outranked the category a coder looks for.
The lookup files still list every extension.

Layout of the cache (`out_dir`, kept between builds):
    <codeset>/state.json             which generation is current (and the inputs it was built with)
    <codeset>/<generation>/lookup/   lookup buckets and the word index (w/) -> site /lookup/<codeset>/
    shared/index-<hash>.json         the list of code sets               -> site /lookup/index.json
A generation is named by the hash of its files, and is never rewritten once returned.
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import content_cache, forking, lookup, reference, urls
from .book_sections import NOT_SEARCHED
from .books import PCS_INDEX
from .config import SiteConfig
from .errors import BuildError, ContentErrors, Problems
from .link import CodeSetModel
from .load import stat_key
from .model import CODESET_NAMES, ICD10CM, ICD10PCS, CodeRecord
from .publish import create_file, digest
from .reference import Books
from .words import entries, hand_side, synonyms, writer
from .words.synonyms import Synonym
from .workers import run_shared
from .xrefs import Resolver

SCHEMA = "4"  # bump when the indexed data or the file layout changes: every code set is re-indexed
LOOKUP_DIR = urls.LOOKUP_DIR
WORDS_DIR = "w"
DIGESTS = "digests.json"  # in a generation folder, beside `done`: see `generation_digests`
# The ICD-10-CM importer repeats every ancestor's notes on each descendant as "From <node> — ..." blocks.
_INHERITED = re.compile(r"^From .{1,300} — ", re.MULTILINE)
SUMMARY_KINDS = ("summary", "description")


def pagefind_binary() -> Path:
    """The Pagefind executable shipped by the `pagefind[bin]` dependency (the job board's search bundle,
    generator/jobs/search.py; the code sets have the word index)."""
    # Imported here, when the index stage runs: its platform detection would cost every `coderef`
    # command (a no-op build included) a few milliseconds.
    from pagefind_bin import get_executable

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
        if s.kind in NOT_SEARCHED:  # the word index has their lines as entries of their own
            continue
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


Texts = list[list[tuple[str, str, str]]]  # per record: (kind, title, text) of its public sections


def record_text(
    cfg: SiteConfig, model: CodeSetModel, i: int, cache: dict[tuple[str, bool | None, str], str] | None = None
) -> tuple[str, list[tuple[str, str, str]], bool]:
    """One record's lookup title and public texts, and whether it may be folded into its parent: a
    7th-character extension with no public text of its own beyond its title."""
    rec = model.records[i]
    found = public_texts(cfg, rec, cache)
    title = lookup.display_title(rec, summary_of(found))
    own = any(not (kind in SUMMARY_KINDS and x == title) for kind, _, x in found)
    p = model.parent.get(i)
    foldable = not own and p is not None and extension_suffix(model.records[p], rec) is not None
    return title, found, foldable


def records_text(cfg: SiteConfig, model: CodeSetModel) -> tuple[list[str], set[int], Texts]:
    """Per record: the lookup title and the public texts; and the folded 7th-character extensions (those
    `record_text` finds foldable whose parent is not folded itself)."""
    titles: list[str] = []
    texts: list[list[tuple[str, str, str]]] = []
    folded: set[int] = set()
    cache: dict[tuple[str, bool | None, str], str] = {}
    for i in range(len(model.records)):
        title, found, foldable = record_text(cfg, model, i, cache)
        titles.append(title)
        texts.append(found)
        if foldable and model.parent[i] not in folded:
            folded.add(i)
    return titles, folded, texts


# ---------------------------------------------------------------------------------------------
# Building one code set


@dataclass
class Prepared:
    codeset: str
    generation: str
    gen_dir: Path


def _lookup_files(model: CodeSetModel, titles: list[str]) -> dict[str, bytes]:
    """The lookup files of one code set by name: a bucket per code prefix, and `index.json`."""
    buckets = lookup.split(lookup.entries(model, titles))
    cs = model.codeset
    out = {f"{prefix}.json": lookup.bucket_json(cs, prefix, group) for prefix, group in buckets.items()}
    doc = {"codeset": cs, "buckets": list(buckets), "count": model.code_count}
    out["index.json"] = json.dumps(doc, separators=(",", ":")).encode()
    return out


def generation_digests(paths: Iterable[str]) -> dict[str, tuple[int, str]]:
    """(size, hash) of the files at `paths` that lie in a generation folder, from the list `prepare`
    wrote beside them: publishing a new generation need not read back the files just written. A
    generation's files are never changed in place (they are published by hard link)."""
    out: dict[str, tuple[int, str]] = {}
    seen: set[str] = set()
    for path in paths:
        gen_dir, sep, _ = path.rpartition(f"/{LOOKUP_DIR}/")
        if not sep or gen_dir in seen:
            continue
        seen.add(gen_dir)
        if not Path(gen_dir, "done").exists():  # not a generation folder
            continue
        try:
            sums = json.loads(Path(gen_dir, DIGESTS).read_text())
        except (OSError, ValueError):
            continue  # a generation made before the list was kept: its files are read
        out.update((f"{gen_dir}/{LOOKUP_DIR}/{rel}", (size, h)) for rel, (size, h) in sums.items())
    return out


def generation_of(codeset: str, sums: Mapping[str, tuple[int, str]]) -> str:
    """The name of a generation: a hash of its files' names, sizes and hashes (the same files, the same
    name); `sums` as `prepare` lists them for publishing, so that each file's bytes are hashed once."""
    h = hashlib.blake2b(f"{SCHEMA}|{codeset}".encode(), digest_size=8)
    for rel in sorted(sums):
        size, file_hash = sums[rel]
        h.update(f"{rel}\0{size}\0{file_hash}\n".encode())
    return h.hexdigest()


def prepare(cfg: SiteConfig, model: CodeSetModel, cs_dir: Path, extra: Extra) -> Prepared:
    """Makes the lookup files and the word index of one code set; writes them into a generation folder
    named for their contents, unless that generation is there already (then nothing is written)."""
    titles, folded, texts = records_text(cfg, model)
    files = _lookup_files(model, titles)
    found = entries.collect(cfg, model, titles, folded, texts, extra.books, extra.resolver(model.codeset))
    words = writer.files(model, found, extra.synonyms)
    files.update((f"{WORDS_DIR}/{name}", data) for name, data in words.files.items())
    side = hand_side.side_data(
        model, titles, folded, found, words.sizes, extra.synonyms, extra.hand.get(model.codeset, ())
    )
    return write_generation(cs_dir, model.codeset, files, side)


Linked = Mapping[str, tuple[str, tuple[int, str]]]  # name -> (another generation's file, its size and hash)


def write_generation(
    cs_dir: Path, codeset: str, files: Mapping[str, bytes], side: dict[str, Any], linked: Linked | None = None
) -> Prepared:
    """Writes a generation of `files`, and of the files of another generation in `linked` (by hard link:
    a generation's files never change), unless that generation is there already (then nothing is
    written); `side` is what it keeps of its hand-written records (`words.hand_side`)."""
    linked = linked or {}
    sums = {rel: (len(data), digest(data)) for rel, data in files.items()}  # see `generation_digests`
    sums.update((rel, sized) for rel, (_, sized) in linked.items())
    generation = generation_of(codeset, sums)
    gen_dir = cs_dir / generation
    if (gen_dir / "done").exists():
        return Prepared(codeset, generation, gen_dir)
    staging = Path(tempfile.mkdtemp(prefix="gen-", dir=cs_dir))
    try:
        dest = staging / LOOKUP_DIR
        made: set[str] = set()

        def place(rel: str) -> str:
            path = f"{dest}/{rel}"
            folder = os.path.dirname(path)
            if folder not in made:
                os.makedirs(folder, exist_ok=True)
                made.add(folder)
            return path

        for rel, data in files.items():
            create_file(place(rel), data)
        for rel, (src, _) in linked.items():
            os.link(src, place(rel))
        (staging / DIGESTS).write_text(json.dumps(sums, separators=(",", ":")))
        hand_side.write_side(staging, side)
        shutil.rmtree(gen_dir, ignore_errors=True)  # an interrupted earlier attempt
        (staging / "done").write_text(generation)
        os.replace(staging, gen_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Prepared(codeset, generation, gen_dir)


@dataclass
class Extra:
    """What the word index reads besides the code sets: the books and the synonyms list; `inputs`
    fingerprints both (a change re-indexes every code set)."""

    books: Books | None = None
    synonyms: list[Synonym] = field(default_factory=list)
    inputs: str = ""
    # Code set -> the keys of its hand-written pages: what a generation keeps of them lets the fast path
    # splice an edit in (`words.hand_side`). Not in `inputs`: adding or removing a page is a full build.
    hand: Mapping[str, frozenset[str]] = field(default_factory=dict)
    _resolver: Resolver | None = None

    def resolver(self, codeset: str) -> Resolver | None:
        if self.books is None:
            return None
        if codeset == ICD10CM and self.books.cm:
            self._resolver = self._resolver or Resolver(self.books.cm)
            return self._resolver
        if codeset == ICD10PCS and self.books.pcs_index is not None:
            return Resolver({PCS_INDEX: self.books.pcs_index})
        return None


def extra_for(cfg: SiteConfig, books: Books, hand: Iterable[tuple[str, str]] = ()) -> Extra:
    """The books and synonyms of a build, fingerprinted; the synonyms list must be valid (the build
    checks it with the rest of the content first). `hand`: (code set, key) of the hand-written pages."""
    problems = Problems()
    syns = content_cache.synonym_list(cfg, problems)
    if problems.errors:
        raise ContentErrors(problems)
    h = hashlib.blake2b(digest_size=12)
    path = cfg.root / synonyms.PATH
    if path.exists():
        h.update(path.read_bytes())
    for kind, src in reference.sources(cfg):
        h.update(f"{kind}={stat_key(src)}".encode())
    keys: dict[str, set[str]] = {}
    for codeset, key in hand:
        keys.setdefault(codeset, set()).add(key)
    return Extra(books, syns, h.hexdigest(), {cs: frozenset(k) for cs, k in keys.items()})


# ---------------------------------------------------------------------------------------------
# The stage


def current_generation(cs_dir: Path, inputs: str) -> str | None:
    """The current generation of a code set, if its files are complete and of this schema and inputs."""
    try:
        state = json.loads((cs_dir / "state.json").read_text())
    except (OSError, ValueError):
        return None
    ok = isinstance(state, dict) and state.get("schema") == SCHEMA and state.get("inputs", "") == inputs
    gen = state.get("generation") if ok else None
    if not isinstance(gen, str) or not (cs_dir / gen / "done").exists():
        return None
    return gen


def is_current(cs_dir: Path, inputs: str) -> bool:
    """Whether a code set has a complete index of this schema and these inputs."""
    return current_generation(cs_dir, inputs) is not None


def _set_state(cs_dir: Path, generation: str, inputs: str) -> None:
    tmp = cs_dir / "state.json.tmp"
    tmp.write_text(json.dumps({"schema": SCHEMA, "generation": generation, "inputs": inputs}))
    os.replace(tmp, cs_dir / "state.json")
    for old in cs_dir.iterdir():  # earlier generations; published copies are hard links and survive
        if old.is_dir() and old.name != generation:
            shutil.rmtree(old, ignore_errors=True)


def _files(codeset: str, gen_dir: Path) -> list[tuple[str, Path]]:
    base = gen_dir / LOOKUP_DIR
    out: list[tuple[str, Path]] = []
    for folder, _, names in os.walk(base):
        below = folder[len(str(base)) :].lstrip("/")
        for name in names:
            rel = f"{below}/{name}" if below else name
            out.append((f"{LOOKUP_DIR}/{codeset}/{rel}", base / rel))
    return out


def _site_index(
    out_dir: Path, codesets: list[str], models: dict[str, CodeSetModel], jobs: bool = False
) -> Path:
    """`/lookup/index.json`: the code sets with their lookup files and word index, for search.js, and the
    job board's Pagefind bundle when it is on (written by generator/jobs/search.py). Content-addressed."""
    doc: dict[str, list[dict[str, object]]] = {
        "codesets": [
            {
                "slug": cs,
                "name": CODESET_NAMES.get(cs, cs),
                "count": models[cs].code_count,
                "lookup": urls.lookup_path(cs),
                "words": f"{urls.lookup_path(cs)}{WORDS_DIR}/",
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


def prepare_codeset(cfg: SiteConfig, model: CodeSetModel, out_dir: Path, extra: Extra) -> str:
    """Indexes one code set into a new generation below `out_dir` and returns it (not yet current:
    `index_codesets` makes it so). Runs in a forked worker as well as here: its result is a name."""
    cs_dir = out_dir / model.codeset
    cs_dir.mkdir(parents=True, exist_ok=True)
    return prepare(cfg, model, cs_dir, extra).generation


def largest_first(models: dict[str, CodeSetModel], codesets: Iterable[str]) -> list[str]:
    """Code sets by their number of records, most first: the longest tasks are started first."""
    return sorted(codesets, key=lambda cs: (-len(models[cs].records), cs))


def searchable(cfg: SiteConfig, models: dict[str, CodeSetModel]) -> list[str]:
    """The enabled code sets with records (one without data imported or pages has nothing to search)."""
    return [cs for cs in cfg.codesets if cs in models and models[cs].records]


def index_codesets(
    cfg: SiteConfig, models: dict[str, CodeSetModel], out_dir: Path, changed: set[str],
    extra: Extra | None = None, *, job_board: bool = False, jobs: int = 1,
    prepared: Mapping[str, str] | None = None,
) -> dict[str, list[tuple[str, Path]]]:
    """Indexes the code sets in `changed` (and any without a usable index in `out_dir`); `job_board` lists
    the job board's bundle (published by the build's jobs stage) in `/lookup/index.json`. Returns, per
    code set, every (site path, file) to publish, sorted.

    `prepared`: generations `prepare_codeset` already made in this build (beside the render, see
    build.py); they become current without indexing again. The others are indexed in up to `jobs`
    processes (this one and forked workers), the largest first."""
    extra = extra or Extra()
    prepared = prepared or {}
    codesets = searchable(cfg, models)
    out_dir.mkdir(parents=True, exist_ok=True)
    current: dict[str, str] = {}
    todo: list[str] = []
    for cs in codesets:
        gen = current_generation(out_dir / cs, extra.inputs)
        if cs in prepared:
            current[cs] = prepared[cs]
        elif gen is None or cs in changed:
            todo.append(cs)
        else:
            current[cs] = gen
    todo = largest_first(models, todo)
    tasks = [functools.partial(prepare_codeset, cfg, models[cs], out_dir, extra) for cs in todo]
    if len(tasks) > 1 and jobs > 1 and forking.can_fork():

        def handle(k: int, generation: object) -> None:
            current[todo[k]] = str(generation)

        run_shared(tasks, min(jobs, len(tasks)) - 1, handle)
    else:
        for cs, task in zip(todo, tasks, strict=True):
            current[cs] = task()
    for cs in codesets:
        if cs in prepared or cs in todo:
            _set_state(out_dir / cs, current[cs], extra.inputs)
    index = _site_index(out_dir, codesets, models, job_board)
    result: dict[str, list[tuple[str, Path]]] = {}
    for cs in codesets:
        files = _files(cs, out_dir / cs / current[cs])
        files.append((urls.relative(urls.lookup_index_path()), index))
        result[cs] = sorted(files)
    return result
