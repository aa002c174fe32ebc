"""Passwords: argon2id hashes, and a strength rule that refuses the obvious choices."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carnet.kit.errors import Invalid

MIN_LENGTH = 12
MAX_LENGTH = 128
_HASHER = PasswordHasher()  # argon2id, RFC 9106's second recommended parameters (64 MiB, t=3, p=4)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


@cache
def _common_words() -> frozenset[str]:
    text = resources.files("carnet.identity").joinpath("data/common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("no account has this password, it only spends the time a real check spends")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def spend_verification_time(password: str) -> bool:
    """Check a password against no account, as slowly as against a real one; always False."""
    verify_password(_dummy_hash(), password)
    return False


def _stems(password: str) -> set[str]:
    """The word under the decorations: "Motdepasse2024!" and "P@ssw0rd123" give "motdepasse" and "password"."""
    lowered = password.lower()
    core = re.sub(r"^[^a-z]+|[^a-z]+$", "", lowered)
    return {re.sub(r"[^a-z]", "", lowered), re.sub(r"[^a-z]", "", core.translate(_LEET))}


def check_strength(password: str, *, personal: Iterable[str] = ()) -> None:
    """Refuse short passwords and the choices an attacker tries first; say why in words."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"Choose a password of at least {MIN_LENGTH} characters.", code="weak-password")
    if len(password) > MAX_LENGTH:
        raise Invalid(f"A password has at most {MAX_LENGTH} characters.", code="weak-password")
    if len(set(password)) < 5:
        raise Invalid("This password repeats too few characters: mix more of them.", code="weak-password")
    lowered = password.lower()
    for word in personal:
        word = word.strip().lower()
        if len(word) >= 4 and word in lowered:
            raise Invalid(
                "The password must not contain your login, name, birth date or social security number.",
                code="weak-password",
            )
    if not any(ch.isalpha() for ch in password):
        raise Invalid("Put some letters in the password, not only digits and symbols.", code="weak-password")
    if any(stem in _common_words() for stem in _stems(password)) or _is_sequence(lowered):
        raise Invalid("This password is among the first ones attackers try: choose another.", code="weak-password")


def _is_sequence(text: str) -> bool:
    """Keyboard rows and counting, forwards or backwards, such as 123456789012 or azertyuiopqs."""
    rows = ("1234567890" * 2, "azertyuiopqsdfghjklmwxcvbn", "qwertyuiopasdfghjklzxcvbnm", "abcdefghijklmnopqrstuvwxyz")
    stripped = re.sub(r"[^a-z0-9]", "", text)
    if not stripped:
        return True
    chunks = [stripped[i : i + 4] for i in range(0, len(stripped), 4)]
    return all(any(chunk in row or chunk in row[::-1] for row in rows) for chunk in chunks)
