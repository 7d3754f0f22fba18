"""A value kept as one pickle file in the build's cache, named `<kind>-<hex key>.pickle` by the identity
of what it was made from: read back when the file exists, else made, written beside and renamed in (a
killed build leaves no half file), with the older files of the same kind removed."""
from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pickle
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TypeVar, cast

T = TypeVar("T")
_KEY = "[0-9a-f]+"  # the hex digest that names one version of a kind's value


def cache_file(folder: Path, kind: str, key: str) -> Path:
    """Where the value of `kind` made from inputs of identity `key` (a hex digest) is kept."""
    if not re.fullmatch(_KEY, key):
        raise ValueError(f"a cache key is a hex digest, not {key!r}")
    return folder / f"{kind}-{key}.pickle"


def older(folder: Path, kind: str) -> list[Path]:
    """Every cached value of `kind` in `folder`: exactly `<kind>-<hex>.pickle`. A glob `<kind>-*` would
    also take another kind whose name starts the same ("icd10cm-" is the start of "icd10cm-index-"),
    and one kind's cleanup then deleted the other's cache."""
    mine = re.compile(rf"{re.escape(kind)}-{_KEY}\.pickle")
    return [p for p in folder.glob(f"{glob.escape(kind)}-*.pickle") if mine.fullmatch(p.name)]


def write(cache: Path, kind: str, value: object, replaces: Iterable[str] = ()) -> None:
    """Pickles `value` into `cache` (beside, then renamed in) and removes the older values of `kind`, and
    every value of the kinds it `replaces` (a kind split or renamed: their files are never read again)."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in older(cache.parent, kind):
        if old != cache:
            old.unlink(missing_ok=True)
    for retired in replaces:
        for old in older(cache.parent, retired):
            old.unlink(missing_ok=True)
    stale = re.compile(rf"{re.escape(kind)}-{_KEY}\.pickle\.\d+\.tmp")
    for left in cache.parent.glob(f"{glob.escape(kind)}-*.tmp"):  # of writers killed mid-write, not at work
        with contextlib.suppress(OSError):
            if stale.fullmatch(left.name) and time.time() - left.stat().st_mtime > 3600:
                left.unlink()
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cache)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def cached(cache: Path, kind: str, make: Callable[[], T], replaces: Iterable[str] = ()) -> T:
    """The value pickled at `cache` (a `cache_file` of `kind`), or `make()` written there (see `write`
    for `replaces`). Opened rather than asked whether it exists: a writer of another key of `kind` may
    remove it in between (`write`), and it is then made again."""
    try:
        with open(cache, "rb") as f:
            return cast(T, pickle.load(f))
    except FileNotFoundError:
        pass
    value = make()
    write(cache, kind, value, replaces)
    return value


def code_of(*modules: ModuleType) -> str:
    """A hash of the source files of `modules`: the code a cached value was made by, so that a change
    there does not read a stale value, while edits elsewhere in the generator keep the cache."""
    h = hashlib.blake2b(digest_size=12)
    for module in modules:
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()
