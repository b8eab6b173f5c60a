"""Secrets and names: teacher keys and student tokens (stored hashed), join codes, display names."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata

from .results import Refused

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read aloud and typed without doubt
CODE_LENGTH = 6  # 31**6 ≈ 890 million codes
MAX_NAME = 40  # characters of a display name, after cleaning
MAX_NAME_INPUT = 1000  # characters looked at: anything longer is refused unread
MAX_SECRET = 200  # characters of a token or key worth hashing (ours are 43)


def new_secret() -> str:
    """A teacher key, student token or run token: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a secret: its sha256, hex (a leaked database hands out no keys)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def same(secret, stored_hash: str) -> bool:
    """Does secret hash to stored_hash? Constant-time, and False for anything that is not a short string."""
    if not isinstance(secret, str) or not 0 < len(secret) <= MAX_SECRET:
        return False
    return hmac.compare_digest(digest(secret), stored_hash)


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normal_code(code) -> str | None:
    """A typed code as stored ("abc-def " -> "ABCDEF"), or None if it cannot be one."""
    if not isinstance(code, str) or len(code) > 40:
        return None
    code = re.sub(r"[\s-]", "", code).upper()
    if len(code) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in code):
        return None
    return code


def clean_name(name, most: int = MAX_NAME) -> str:
    """A display name as stored: NFC, control and format characters removed, spaces collapsed, trimmed.

    None or "" is allowed (names are optional). Longer than MAX_NAME_INPUT: Refused("too_big"); longer than
    `most` (MAX_NAME) after cleaning: Refused("bad_name"), not cut, so no one is shown a name they did not choose.
    The name is plain text: ui/ must show it escaped (never as Markdown or HTML).
    """
    if name is None:
        return ""
    if not isinstance(name, str):
        raise Refused("bad_name", "type")
    if len(name) > MAX_NAME_INPUT:
        raise Refused("too_big", "name")
    name = unicodedata.normalize("NFC", name)
    name = "".join(" " if c.isspace() else c for c in name if c.isspace() or unicodedata.category(c)[0] != "C")
    name = " ".join(name.split())
    if len(name) > most:
        raise Refused("bad_name", f"longer than {most}")
    return name


__all__ = ["CODE_ALPHABET", "CODE_LENGTH", "MAX_NAME", "new_secret", "digest", "same", "new_join_code",
           "normal_code", "clean_name"]
