"""The word index's varints (generator/words/postings.py): the table `encode` looks numbers up in holds
what the byte-by-byte encoder writes, and `decode` reads `encode`'s output back."""
from __future__ import annotations

from generator.words import postings


def test_the_varint_table_is_the_byte_by_byte_encoding() -> None:
    table = postings._varints()
    assert len(table) == 1 << 16
    assert all(table[n] == postings._varint_bytes(n) for n in range(1 << 16))


def test_postings_round_trip_below_and_above_the_table() -> None:
    items = [(0, 0), (5, 127), (200, 128), (16_500, 16_383), (16_600, 16_384), (80_000, 65_535),
             (10**7, 70_000)]
    assert list(postings.decode(postings.encode(items))) == items
