"""Text and attribute values escaped for XML (sitemaps, the jobs feed): `xml.sax.saxutils.escape` and
`quoteattr` without that module's imports (urllib.request, and with it http.client, ssl and email:
15 ms of every `coderef` command, a no-op build included). tests/test_xml_text.py compares the two."""
from __future__ import annotations

_ATTR = {"\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def escape(data: str) -> str:
    """`&`, `<` and `>` as entities."""
    return data.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(data: str) -> str:
    """An attribute value with its quotes: escaped, line breaks and tabs as character references, in
    double quotes unless it holds a double quote and no single one."""
    data = escape(data)
    for char, ref in _ATTR.items():
        data = data.replace(char, ref)
    if '"' in data:
        if "'" in data:
            return '"{}"'.format(data.replace('"', "&quot;"))
        return f"'{data}'"
    return f'"{data}"'
