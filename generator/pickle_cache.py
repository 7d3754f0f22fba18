"""A value kept as one pickle file in the build's cache, named by the identity of what it was made
from: read back when the file exists, else made, written beside and renamed in (a killed build
leaves no half file), with the older files of the same kind removed."""
from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TypeVar, cast

T = TypeVar("T")


def cached(cache: Path, older: str, make: Callable[[], T]) -> T:
    """The value pickled at `cache`, or `make()` written there; `older`: a glob, in the same folder,
    of the files it replaces."""
    if cache.exists():
        with open(cache, "rb") as f:
            return cast(T, pickle.load(f))
    value = make()
    cache.parent.mkdir(parents=True, exist_ok=True)
    for old in cache.parent.glob(older):
        old.unlink(missing_ok=True)
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, cache)
    return value


def code_of(*modules: ModuleType) -> str:
    """A hash of the source files of `modules`: the code a cached value was made by, so that a change
    there does not read a stale value, while edits elsewhere in the generator keep the cache."""
    h = hashlib.blake2b(digest_size=12)
    for module in modules:
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()
