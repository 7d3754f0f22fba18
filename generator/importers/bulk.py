"""Helpers for reading big packaged code files: locating them, and building ~100k records at once."""
from __future__ import annotations

import gc
import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pauses the cyclic garbage collector: a full read of ICD-10-CM allocates ~1M objects that all stay
    alive, and the collections this triggers cost more than the read itself (3 s instead of 1 s)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def package_dir(name: str) -> Path:
    """Folder of an installed package, found without importing it (simple_icd_10_cm loads every code
    on import and warns); a path that does not exist when the package is missing."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return Path("/nonexistent") / name
    return Path(next(iter(spec.submodule_search_locations)))
