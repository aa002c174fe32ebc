"""Random secrets handed to people (session tokens, one-time codes) and the digests we keep of them."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Crockford-style: no I, L, O, U, 0 or 1, which people misread on a printed slip.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"


def new_token() -> str:
    """256 random bits, URL-safe: session cookies, recovery links, client secrets."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> bytes:
    """What we store of a high-entropy secret: finding it again needs the secret itself."""
    return hashlib.sha256(secret.encode()).digest()


def new_activation_code() -> str:
    """Twelve characters (about 59 bits), printed as XXXX-XXXX-XXXX."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalize_code(text: str) -> str:
    """A typed code as printed: spaces and dashes dropped, letters upper-cased."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def new_numeric_code(digits: int = 6) -> str:
    return f"{secrets.randbelow(10**digits):0{digits}d}"


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
