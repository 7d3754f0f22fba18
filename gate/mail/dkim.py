"""DKIM signatures (dkimpy) for outgoing mail when CODEREF_DKIM_KEY_FILE is set."""

from __future__ import annotations

import dkim as dkimpy

# Headers a receiver shows or threads by: any change to them in transit breaks the signature.
SIGNED_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"auto-submitted",
    b"mime-version",
    b"content-type",
]


def sign(raw: bytes, selector: str, domain: str, key: bytes) -> bytes:
    """`raw` with a DKIM-Signature header in front (relaxed/relaxed canonicalisation, rsa-sha256)."""
    header = dkimpy.sign(
        raw,
        selector.encode("ascii"),
        domain.encode("ascii"),
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=SIGNED_HEADERS,
    )
    return bytes(header) + raw
