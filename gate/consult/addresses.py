"""Signed per-case reply addresses: `ask+c12.a34.<mac>@example.org`.

The address names the case and who it was given to (`a` the asker, `k` a consultant, by account
id) and carries an HMAC of both under the gate's secret keys: nobody can make up an address for
another case or another person, and a reply is attached only to the case its address was signed for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

ASKER, CONSULTANT = "a", "k"
_TAG = re.compile(r"^c(\d{1,12})\.([ak])(\d{1,12})\.([a-z2-7]{16})$")


@dataclass(frozen=True, slots=True)
class ReplyTag:
    case_id: int
    role: str  # ASKER or CONSULTANT
    account_id: int


def _mac(key: str, case_id: int, role: str, account_id: int) -> str:
    digest = hmac.new(
        key.encode(), f"consult-reply:{case_id}:{role}:{account_id}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest[:10]).decode("ascii").lower()


def reply_address(consult_address: str, keys: list[str], tag: ReplyTag) -> str:
    local, _, domain = consult_address.partition("@")
    mac = _mac(keys[0], tag.case_id, tag.role, tag.account_id)
    return f"{local}+c{tag.case_id}.{tag.role}{tag.account_id}.{mac}@{domain}"


def parse(address: str, consult_address: str, keys: list[str]) -> ReplyTag | bool | None:
    """True for the plain consult address, a ReplyTag for a validly signed reply address, None otherwise."""
    address = address.strip().strip("<>").lower()
    local, _, domain = consult_address.lower().partition("@")
    got_local, _, got_domain = address.rpartition("@")
    if got_domain != domain:
        return None
    if got_local == local:
        return True
    if not got_local.startswith(local + "+"):
        return None
    m = _TAG.match(got_local[len(local) + 1 :])
    if m is None:
        return None
    case_id, role, account_id, mac = int(m[1]), m[2], int(m[3]), m[4]
    if not any(hmac.compare_digest(mac, _mac(k, case_id, role, account_id)) for k in keys):
        return None
    return ReplyTag(case_id, role, account_id)
