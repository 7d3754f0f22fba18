"""The build's pickle caches: one file per kind named `<kind>-<hex>.pickle`, made once, replaced when
its inputs change, and a kind's cleanup never touching another kind whose name starts the same."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator import pickle_cache
from generator.pickle_cache import cache_file, cached, older

KEY1, KEY2 = "a" * 24, "b" * 24


def test_a_value_is_made_once_then_read_back(tmp_path: Path) -> None:
    made: list[int] = []

    def make() -> dict[str, int]:
        made.append(1)
        return {"x": 1}

    cache = cache_file(tmp_path, "kind", KEY1)
    assert cached(cache, "kind", make) == {"x": 1}
    assert cached(cache, "kind", make) == {"x": 1}
    assert made == [1]
    assert cache.name == f"kind-{KEY1}.pickle"


def test_new_inputs_replace_the_older_value_of_the_kind(tmp_path: Path) -> None:
    cached(cache_file(tmp_path, "kind", KEY1), "kind", lambda: 1)
    assert cached(cache_file(tmp_path, "kind", KEY2), "kind", lambda: 2) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"kind-{KEY2}.pickle"]


@pytest.mark.parametrize(("kind", "other"), [
    ("icd10cm", "icd10cm-index"),  # a code set's parse cache and its books'
    ("hcpcs", "hcpcs-earlier"),  # the HCPCS parse cache and the earlier HCPCS release
    ("books-icd-10-cm", "books-icd-10-cm-x"),
])
def test_a_kinds_cleanup_keeps_a_kind_whose_name_starts_the_same(
    tmp_path: Path, kind: str, other: str
) -> None:
    theirs = cache_file(tmp_path, other, KEY1)
    pickle_cache.write(theirs, other, "theirs")
    cached(cache_file(tmp_path, kind, KEY1), kind, lambda: 1)
    pickle_cache.write(cache_file(tmp_path, kind, KEY2), kind, 2)  # the way load.read_source writes
    assert theirs.exists()
    assert older(tmp_path, kind) == [cache_file(tmp_path, kind, KEY2)]
    assert older(tmp_path, other) == [theirs]


def test_a_key_must_be_a_hex_digest(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hex digest"):
        cache_file(tmp_path, "kind", "index-" + KEY1)


def test_a_kind_written_removes_the_kinds_it_replaces_and_no_other(tmp_path: Path) -> None:
    """A kind split in two (`cms-pages` into `cms-pages-hcpcs` and `cms-pages-cpt`): the first value of
    a successor removes the old kind's file, which nothing reads any more, and leaves the other successor."""
    legacy = cache_file(tmp_path, "cms-pages", KEY1)
    pickle_cache.write(legacy, "cms-pages", ["both code sets"])
    sibling = cache_file(tmp_path, "cms-pages-cpt", KEY1)
    pickle_cache.write(sibling, "cms-pages-cpt", ["cpt"])
    assert cached(cache_file(tmp_path, "cms-pages-hcpcs", KEY2), "cms-pages-hcpcs", lambda: ["hcpcs"],
                  replaces=("cms-pages",)) == ["hcpcs"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"cms-pages-cpt-{KEY1}.pickle", f"cms-pages-hcpcs-{KEY2}.pickle"]
    # A value read back from its cache writes nothing and removes nothing.
    pickle_cache.write(legacy, "cms-pages", ["both code sets"])
    assert cached(cache_file(tmp_path, "cms-pages-hcpcs", KEY2), "cms-pages-hcpcs", lambda: ["made again"],
                  replaces=("cms-pages",)) == ["hcpcs"]
    assert legacy.exists()
