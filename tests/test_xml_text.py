"""generator/xml_text.py escapes exactly as xml.sax.saxutils does (its plain twin)."""
from __future__ import annotations

from xml.sax import saxutils

import pytest

from generator import xml_text

SAMPLES = [
    "", "plain", "a & b", "<tag>", "x > y < z", "&amp; already", 'say "hi"', "it's", "both \" and '",
    "line\nbreak\rand\ttab", "https://codes.example.org/jobs/?a=1&b=2", "Ünïcødé — ®", "&<>\"'\n\r\t",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_escape_and_quoteattr_match_saxutils(text: str) -> None:
    assert xml_text.escape(text) == saxutils.escape(text)
    assert xml_text.quoteattr(text) == saxutils.quoteattr(text)
