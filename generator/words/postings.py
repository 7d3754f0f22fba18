"""The binary layout of the word index, shared by the writer and the Python reader (search.js reads it
too): unsigned LEB128 varints.

A token shard (`t-<prefix>.bin`) is a run of records `len, token, count, nbytes, postings`, tokens
sorted; `nbytes` = 0 means the postings are in a file of their own (`p-<token>.bin`). Postings are
`entry-delta, info` pairs, entries ascending; `info` packs what ranking needs without the entry:
kind << 11 | slots << 6 | cover << 2 | role.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

WORD, MODIFIER, SYNONYM = 0, 1, 2  # the role of a token in an entry
MAX_COVER = 15


def pack(kind: int, slots: int, cover: int, role: int) -> int:
    return kind << 11 | min(slots, 31) << 6 | min(cover, MAX_COVER) << 2 | role


def unpack(info: int) -> tuple[int, int, int, int]:
    return info >> 11, info >> 6 & 31, info >> 2 & 15, info & 3


def varint(n: int, out: bytearray) -> None:
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        n |= (byte & 0x7F) << shift
        if byte < 0x80:
            return n, pos
        shift += 7


def _varint_bytes(n: int) -> bytes:
    out = bytearray()
    varint(n, out)
    return bytes(out)


# The varints of every number below 2**16, made once: a code set's postings are millions of small
# numbers (entry deltas, `info` values under 2**16), and a table lookup per number is several times
# faster than encoding it byte by byte.
_TABLE_SIZE = 1 << 16


@functools.cache
def _varints() -> list[bytes]:
    """The table, made when an index is first written (not by every command that imports this)."""
    return (
        [bytes((n,)) for n in range(1 << 7)]
        + [bytes((n & 0x7F | 0x80, n >> 7)) for n in range(1 << 7, 1 << 14)]
        + [bytes((n & 0x7F | 0x80, n >> 7 & 0x7F | 0x80, n >> 14)) for n in range(1 << 14, _TABLE_SIZE)]
    )


def encode(postings: list[tuple[int, int]]) -> bytes:
    table = _varints()
    parts: list[bytes] = []
    add = parts.append
    last = 0
    for entry, info in postings:
        delta = entry - last
        add(table[delta] if delta < _TABLE_SIZE else _varint_bytes(delta))
        add(table[info] if info < _TABLE_SIZE else _varint_bytes(info))
        last = entry
    return b"".join(parts)


def decode(data: bytes) -> Iterator[tuple[int, int]]:
    pos = entry = 0
    while pos < len(data):
        delta, pos = read_varint(data, pos)
        info, pos = read_varint(data, pos)
        entry += delta
        yield entry, info


def shard(records: list[tuple[str, int, bytes | None]]) -> bytes:
    """A shard file: (token, count, postings or None when they have a file of their own)."""
    out = bytearray()
    for token, count, data in records:
        raw = token.encode()
        varint(len(raw), out)
        out += raw
        varint(count, out)
        varint(len(data) if data is not None else 0, out)
        if data is not None:
            out += data
    return bytes(out)


def read_shard(data: bytes) -> Iterator[tuple[str, int, bytes | None]]:
    pos = 0
    while pos < len(data):
        n, pos = read_varint(data, pos)
        token = data[pos : pos + n].decode()
        pos += n
        count, pos = read_varint(data, pos)
        size, pos = read_varint(data, pos)
        yield token, count, (data[pos : pos + size] if size else None)
        pos += size
