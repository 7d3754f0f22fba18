"""The fast path's word index (generator/search_splice.py): an edit of hand-written pages spliced into
the current index. After every kind of edit, spliced or not, the published search files are exactly
those the full build's indexer makes of the same content."""
from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import make_project

from generator import search
from generator.book_sections import attach_books
from generator.build import build
from generator.inputs import load_inputs
from generator.link import link_models
from generator.load import load_models
from generator.reference import load_books
from generator.result import BuildResult
from generator.search_stage import search_dir
from generator.words import postings as pf
from generator.words import writer
from generator.words.hand_side import SIDE
from generator.words.reader import WordSearch
from generator.words.text import tokens

# A hand-written page for an ICD-10-CM code the sample index leads to (its index entries lie between its
# own title and its text entries).
DIABETES = """---
sections:
  common-language-description: {protected: false}
---
## Common language description

Diabetes of the adult kind, without a complication the record names; the usual first code for a
patient whose blood sugar is managed by diet, tablets or insulin.
"""


# A CPT page without a summary in its front matter: search lists the code with its opening paragraph.
UNLISTED = """An evaluation and management service that no other code describes.

## Coding tips

Describe the service in the claim's notes.
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "proj", jobs=False)
    (root / "content" / "codes" / "icd-10-cm").mkdir()
    (root / "content" / "codes" / "icd-10-cm" / "E11.9.md").write_text(DIABETES, encoding="utf-8")
    build(root, quiet=True, jobs=1)
    return root


def page(root: Path, codeset: str, key: str) -> Path:
    return root / "content" / "codes" / codeset / f"{key}.md"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path} no longer says {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def published(root: Path, codeset: str) -> dict[str, bytes]:
    base = root / "site" / "lookup" / codeset
    return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def indexed_whole(root: Path, codeset: str, tmp: Path) -> dict[str, bytes]:
    """The files the full build's indexer makes of the project's content as it is now."""
    loaded = load_inputs(root)
    cfg = loaded.cfg
    models = load_models(cfg, loaded.pages, loaded.problems, only={codeset}, quiet=True)
    models = link_models(models, loaded.problems, quiet=True)
    attach_books(cfg, models, quiet=True)
    extra = search.extra_for(cfg, load_books(cfg, models.keys()))
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    gen_dir = search.prepare(cfg, models[codeset], tmp, extra).gen_dir / search.LOOKUP_DIR
    return {str(p.relative_to(gen_dir)): p.read_bytes() for p in sorted(gen_dir.rglob("*")) if p.is_file()}


def rebuilt(root: Path, codeset: str, tmp: Path) -> BuildResult:
    """The fast path's build after an edit of `codeset`, checked against the whole index."""
    result = build(root, quiet=True, jobs=1)
    assert result.mode == "pages"
    assert result.reindexed == [codeset]
    fast, whole = published(root, codeset), indexed_whole(root, codeset, tmp)
    assert fast.keys() == whole.keys()
    assert [name for name in fast if fast[name] != whole[name]] == []
    return result


def test_edits_of_words_are_spliced_and_equal_the_whole_index(site: Path, tmp_path: Path) -> None:
    hcpcs, cpt = page(site, "hcpcs", "G0008"), page(site, "cpt", "27252")
    cm = page(site, "icd-10-cm", "E11.9")
    steps = [
        # (page, code set, old, new)
        (hcpcs, "hcpcs", "giving a flu shot", "giving a seasonal flu shot"),  # a word known elsewhere
        (hcpcs, "hcpcs", "seasonal flu", "zyxwvutian flu"),  # a word new to the code set: a new token
        (hcpcs, "hcpcs", "zyxwvutian flu", "flu"),  # its only use gone: the token leaves the index
        (cpt, "cpt", "The physician puts the ball", "The surgeon puts the ball"),
        (cm, "icd-10-cm", "managed by diet", "managed by diet and exercise"),  # beside index entries
        (cm, "icd-10-cm", "Diabetes of the adult kind", "Type 2 diabetes mellitus of the adult kind"),
        # A line over 160 characters: the result line shows it cut short, every word is indexed.
        (hcpcs, "hcpcs", "The service of giving", f"The service, {'documented carefully ' * 12}of giving"),
    ]
    for path, codeset, old, new in steps:
        edit(path, old, new)
        assert rebuilt(site, codeset, tmp_path / "whole").spliced == [codeset], (codeset, new)
    words = WordSearch(site / "site")
    assert "27252" in [h.key for h in words.search("surgeon", codeset="cpt")]
    assert "E11.9" in [h.key for h in words.search("exercise", codeset="icd-10-cm")]
    assert "G0008" not in [h.key for h in words.search("zyxwvutian", codeset="hcpcs")]


def test_two_pages_of_one_code_set_and_an_edit_undone(site: Path, tmp_path: Path) -> None:
    first, second = page(site, "cpt", "27250"), page(site, "cpt", "27252")
    before = published(site, "cpt")
    edit(first, "## Common language description\n\n", "## Common language description\n\nQuietly, ")
    edit(second, "The physician puts the ball", "The physician carefully puts the ball")
    assert rebuilt(site, "cpt", tmp_path / "whole").spliced == ["cpt"]
    edit(first, "Quietly, ", "")
    edit(second, "carefully ", "")
    assert rebuilt(site, "cpt", tmp_path / "whole").spliced == ["cpt"]
    assert published(site, "cpt") == before


def test_edits_that_move_other_entries_index_the_code_set_again(site: Path, tmp_path: Path) -> None:
    hcpcs = page(site, "hcpcs", "E0601")
    # A CPT code without a licensed descriptor or a summary is listed with its description: the lookup files
    # change with it.
    cpt = page(site, "cpt", "99499")
    cpt.write_text(UNLISTED, encoding="utf-8")
    assert build(site, quiet=True, jobs=1).mode == "full"  # a page added
    edit(cpt, "An evaluation and management service", "An E/M service")
    assert rebuilt(site, "cpt", tmp_path / "whole").spliced == []
    assert "99499" in [h.key for h in WordSearch(site / "site").search("E/M service", codeset="cpt")]
    # A new public paragraph is an entry more: every later entry number moves.
    edit(hcpcs, "## Coding tips", "Also called a sleep apnea machine.\n\n## Coding tips")
    text = hcpcs.read_text(encoding="utf-8")
    edit(hcpcs, "sections:\n", "sections:\n  coding-tips: {protected: false}\n")
    assert "coding-tips" in hcpcs.read_text(encoding="utf-8") != text
    assert rebuilt(site, "hcpcs", tmp_path / "whole").spliced == []
    # Then words again: spliced into the generation just made.
    edit(hcpcs, "sleep apnea machine", "sleep apnoea machine")
    assert rebuilt(site, "hcpcs", tmp_path / "whole").spliced == ["hcpcs"]


@pytest.mark.parametrize("small", [False, True], ids=["shards as built", "small shards"])
def test_many_random_word_edits_equal_the_whole_index(
    small: bool, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Words taken from and put into the pages at random, 24 builds, each spliced and equal to the whole
    index. With small shards (and small own postings files) the edits also split and merge shards and
    move tokens in and out of files of their own."""
    if small:
        monkeypatch.setattr(writer, "SHARD_BYTES", 300)
        monkeypatch.setattr(writer, "OWN_FILE", 40)
        build(site, quiet=True, jobs=1, clean=True)
        assert any((site / "site" / "lookup" / "icd-10-cm" / "w").glob("p-*.bin"))
    rng = random.Random(20261203 + small)
    pool = ["fracture", "oxygen", "nebulizer", "cpap", "mask", "rental", "insulin", "hip", "socket",
            "qualmish", "zeugma", "xylograph", "anesthesia", "monthly", "vaccine", "heart", "attack"]
    pages = {"hcpcs": [page(site, "hcpcs", "E0601"), page(site, "hcpcs", "G0008")],
             "icd-10-cm": [page(site, "icd-10-cm", "E11.9")], "cpt": [page(site, "cpt", "27250")]}
    shards = set()
    for _ in range(24):
        codeset = rng.choice(sorted(pages))
        path = rng.choice(pages[codeset])
        text = path.read_text(encoding="utf-8")
        head, sep, body = text.partition("## Common language description\n\n")
        assert sep, path
        para, rest = body.split("\n\n", 1) if "\n\n" in body else (body, "")
        words = para.split()
        if len(words) > 4 and rng.random() < 0.4:
            del words[rng.randrange(len(words))]
        else:
            words.insert(rng.randrange(len(words) + 1), rng.choice(pool))
        path.write_text(head + sep + " ".join(words) + ("\n\n" + rest if rest else "\n"), encoding="utf-8")
        assert rebuilt(site, codeset, tmp_path / "whole").spliced == [codeset]
        meta = json.loads((site / "site" / "lookup" / codeset / "w" / "meta.json").read_text())
        shards.add((codeset, tuple(meta["shards"])))
    if small:
        assert len(shards) > len(pages) + 3  # the shards changed along the way


def test_a_token_leaves_and_regains_a_file_of_its_own(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Postings over OWN_FILE bytes have a file of their own: a token whose postings shrink under it goes
    back into its shard (its file removed), and out again when they grow."""
    token = tokens("Diabetes")[0]
    words_dir = site / "site" / "lookup" / "icd-10-cm" / "w"
    found = [data for shard in words_dir.glob("t-*.bin") for t, _, data in pf.read_shard(shard.read_bytes())
             if t == token]
    assert len(found) == 1 and found[0] is not None and len(found[0]) > 2
    monkeypatch.setattr(writer, "OWN_FILE", len(found[0]) - 1)
    build(site, quiet=True, jobs=1, clean=True)
    assert (words_dir / f"p-{token}.bin").exists()
    cm = page(site, "icd-10-cm", "E11.9")
    edit(cm, "Diabetes of the adult kind", "Of the adult kind")  # the page's one use of the word
    assert rebuilt(site, "icd-10-cm", tmp_path / "whole").spliced == ["icd-10-cm"]
    assert not (words_dir / f"p-{token}.bin").exists()
    edit(cm, "Of the adult kind", "Diabetes of the adult kind")
    assert rebuilt(site, "icd-10-cm", tmp_path / "whole").spliced == ["icd-10-cm"]
    assert (words_dir / f"p-{token}.bin").exists()


def test_a_generation_that_keeps_nothing_of_its_pages_is_indexed_whole(site: Path, tmp_path: Path) -> None:
    state = json.loads((search_dir_of(site) / "hcpcs" / "state.json").read_text())
    (search_dir_of(site) / "hcpcs" / state["generation"] / SIDE).unlink()
    edit(page(site, "hcpcs", "G0008"), "giving a flu shot", "giving a yearly flu shot")
    assert rebuilt(site, "hcpcs", tmp_path / "whole").spliced == []
    # The new generation keeps what the next edit needs.
    edit(page(site, "hcpcs", "G0008"), "yearly", "annual")
    assert rebuilt(site, "hcpcs", tmp_path / "whole").spliced == ["hcpcs"]


def test_what_a_generation_keeps_is_checked_against_its_files(site: Path, tmp_path: Path) -> None:
    """A kept entry whose postings the index does not hold (a tampered or foreign file) is not trusted."""
    state = json.loads((search_dir_of(site) / "hcpcs" / "state.json").read_text())
    side_path = search_dir_of(site) / "hcpcs" / state["generation"] / SIDE
    side = json.loads(side_path.read_text())
    postings = side["records"]["G0008"]["entries"][-1][2]  # (token, info) of its last entry
    postings[0][1] += 1  # a posting the shard does not hold
    side_path.write_text(json.dumps(side))
    edit(page(site, "hcpcs", "G0008"), "giving a flu shot", "giving a yearly flu shot")
    assert rebuilt(site, "hcpcs", tmp_path / "whole").spliced == []


def search_dir_of(root: Path) -> Path:
    return search_dir(load_inputs(root).cfg)


def test_a_build_with_search_after_builds_without_indexes_what_changed(site: Path) -> None:
    """`--no-search` skips the index stage: a full build leaves the word index out, a fast path leaves the
    live one as it was. The next build with search publishes an index with every edit made meanwhile,
    where a fast path would have found nothing to re-index and a no-op nothing to do."""
    g0008 = page(site, "hcpcs", "G0008")

    def found(word: str) -> bool:
        return "G0008" in [h.key for h in WordSearch(site / "site").search(word, codeset="hcpcs")]

    edit(g0008, "giving a flu shot", "giving a zanzibarian flu shot")
    assert build(site, quiet=True, jobs=1, search=False).mode == "pages"
    assert not found("zanzibarian")  # the live index, as it was
    assert build(site, quiet=True, jobs=1).mode == "full"
    assert found("zanzibarian")
    assert build(site, quiet=True, jobs=1, search=False, clean=True).mode == "clean"  # the index dropped
    assert not (site / "site" / "lookup" / "index.json").exists()
    edit(g0008, "zanzibarian", "tanzanian")
    assert build(site, quiet=True, jobs=1, search=False).mode == "pages"
    assert build(site, quiet=True, jobs=1).mode == "full"
    assert found("tanzanian") and not found("zanzibarian")
    edit(g0008, "tanzanian", "kenyan")  # the index current again: the fast path splices
    assert build(site, quiet=True, jobs=1).spliced == ["hcpcs"]
    assert found("kenyan")
