"""Names and addresses safe for mail headers: no control characters, nothing unbounded."""

from __future__ import annotations

import re
import secrets
from email.utils import parseaddr

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_ADDR = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*$")


def clean_display_name(name: str | None) -> str:
    """A first name safe for headers and greetings: no control characters (CR/LF), bounded length."""
    cleaned = " ".join(_CONTROL.sub(" ", name or "").split())
    return cleaned[:60]


def valid_address(email: str | None) -> bool:
    return bool(email) and len(email) <= 254 and _ADDR.match(email) is not None  # type: ignore[arg-type]


def domain_of(mail_from: str) -> str:
    addr = parseaddr(mail_from)[1]
    domain = addr.rpartition("@")[2]
    return domain if re.fullmatch(r"[A-Za-z0-9.-]+", domain or "") else "backstride.local"


def content_id(name: str, domain: str) -> str:
    """A short Content-ID (long ones get folded across header lines by some clients)."""
    return f"<{name}.{secrets.token_hex(6)}@{domain}>"
