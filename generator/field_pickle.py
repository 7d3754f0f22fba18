"""Pickling slotted dataclasses by their field values.

A `@dataclass(slots=True)` pickles through the `__getstate__`/`__setstate__` that dataclasses adds, two
Python calls per object that look every field up by name: the parse caches hold about a million such
objects (ICD-10-CM's 98k records and 485k sections, the index books' terms), and writing them took
1.3 s for ICD-10-CM alone. Reduced to `(cls, values)` an object is one tuple to pickle and one
constructor call to read back: about half the time to write and a fifth less to read.
"""
from __future__ import annotations

import dataclasses
import operator
from typing import Any, TypeVar

T = TypeVar("T")


def by_fields(cls: type[T]) -> type[T]:
    """Makes instances of the dataclass `cls` pickle as `cls(*field values)`.

    Every field must be an `__init__` argument (so the constructor rebuilds the object), and an object
    must not reach itself through its fields (a constructor's arguments are pickled before the object,
    so a cycle would recurse without end; trees are fine)."""
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    if not fields or any(not f.init for f in fields):
        raise TypeError(f"{cls.__name__}: by_fields needs a dataclass with every field an __init__ argument")
    if len(fields) == 1:
        name = fields[0].name

        def reduce_one(self: Any) -> tuple[type[T], tuple[Any, ...]]:
            return cls, (getattr(self, name),)

        cls.__reduce__ = reduce_one  # type: ignore[method-assign]
        return cls
    values = operator.attrgetter(*(f.name for f in fields))

    def reduce(self: Any) -> tuple[type[T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[method-assign]
    return cls
