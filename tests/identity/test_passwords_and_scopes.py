"""Pure rules of identity: the password strength rule and SMART scopes."""

from __future__ import annotations

import pytest

from carnet.identity.passwords import check_strength, hash_password, spend_verification_time, verify_password
from carnet.identity.tokens import parse_scopes, permits
from carnet.kit.errors import Invalid


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "too few"),
        ("123456789012345", "letters"),
        ("Motdepasse2024!", "attackers try"),
        ("P@ssw0rd123456", "attackers try"),
        ("azertyuiopqsdf", "attackers try"),
        ("Carnetsante2026", "attackers try"),
        ("claire.dupont.85", "must not contain"),
    ],
)
def test_obvious_passwords_are_refused(password: str, why: str) -> None:
    with pytest.raises(Invalid, match=why):
        check_strength(password, personal=["Dupont", "claire"])


@pytest.mark.parametrize("password", ["lune-verte-kiosque", "Tr0ub4dor&3-cheval", "trois petits chats gris"])
def test_long_unusual_passwords_pass(password: str) -> None:
    check_strength(password, personal=["Dupont"])


def test_hashes_are_argon2id_and_verify() -> None:
    stored = hash_password("lune-verte-kiosque")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "lune-verte-kiosque")
    assert not verify_password(stored, "lune-verte-kiosqu")
    assert not verify_password("not a hash", "anything")
    assert spend_verification_time("anything") is False


def test_scopes() -> None:
    scopes = parse_scopes("user/DocumentReference.read user/*.write")
    assert permits(scopes, "user", "DocumentReference", "read")
    assert permits(scopes, "user", "Observation", "write")
    assert not permits(scopes, "user", "Observation", "read")
    assert not permits(scopes, "patient", "DocumentReference", "read")
    for bad in ("user/Unknown.read", "user/DocumentReference.delete", "openid", "user/documentreference.read"):
        with pytest.raises(Invalid, match="not a scope"):
            parse_scopes(bad)
