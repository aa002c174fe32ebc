"""National identifiers and their check digits: INS (NIR + key), RPPS and FINESS (Luhn).

Pure functions. Each parser normalises its input (spaces, dots and dashes are ignored, letters
upper-cased), validates it and returns the canonical form, or raises `Invalid` with a message a
person at a counter can act on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from carnet.kit.errors import Invalid

_SEPARATORS = re.compile(r"[\s.\-]")
# sex (1, 2; 3, 4 and 7, 8 for provisional numbers), year, month, département or country of birth
# (2A / 2B for Corsica), commune or country, order number.
_NIR = re.compile(r"^[123478]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2A|2B)\d{6}$")
INS_OID = "urn:oid:1.2.250.1.213.1.4.8"
# A plausible e-mail address: a local part, an @, a domain with a dot. Deliverability is the relay's to judge.
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")


def _normalise(raw: str) -> str:
    return _SEPARATORS.sub("", raw).upper()


def _nir_as_number(nir: str) -> int:
    # Corsica's 2A and 2B count as 19 and 18 for the key.
    return int(nir[:5] + nir[5:7].replace("2A", "19").replace("2B", "18") + nir[7:])


def nir_key(nir: str) -> str:
    """The two-digit key of a 13-character NIR: 97 - (NIR mod 97)."""
    nir = _normalise(nir)
    if not _NIR.match(nir):
        raise Invalid(f"'{nir}' is not a NIR: 13 characters, sex digit first, 2A/2B only for Corsica")
    return f"{97 - _nir_as_number(nir) % 97:02d}"


@dataclass(frozen=True, slots=True)
class Ins:
    """A national health identifier: the 13-character NIR and its 2-digit key."""

    nir: str
    key: str

    @property
    def value(self) -> str:
        return self.nir + self.key

    @property
    def formatted(self) -> str:
        n = self.nir
        return f"{n[0]} {n[1:3]} {n[3:5]} {n[5:7]} {n[7:10]} {n[10:13]} {self.key}"

    def __str__(self) -> str:
        return self.value


def parse_ins(raw: str) -> Ins:
    """Parse an INS written with or without spaces (``1 84 12 75 123 456 78``)."""
    text = _normalise(raw)
    if len(text) != 15:
        raise Invalid(
            "An INS has 15 characters: the 13 of the social security number (NIR) and its 2-digit key; "
            f"got {len(text)}.",
            code="invalid-ins",
        )
    nir, key = text[:13], text[13:]
    if not _NIR.match(nir):
        raise Invalid(
            "The social security number (NIR) is malformed: it starts with the sex digit, then year and "
            "month of birth, then the département (2A or 2B for Corsica).",
            code="invalid-ins",
        )
    if not key.isdigit() or key != nir_key(nir):
        raise Invalid("The INS key does not match the social security number: check each digit.", code="invalid-ins")
    return Ins(nir=nir, key=key)


def luhn_check_digit(payload: str) -> str:
    """The digit that, appended to `payload`, makes a valid Luhn number."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def _parse_luhn(raw: str, *, length: int, name: str, code: str) -> str:
    text = _normalise(raw)
    if len(text) != length or not text.isdigit():
        raise Invalid(f"A {name} number has {length} digits; got '{text}'.", code=code)
    if not luhn_valid(text):
        raise Invalid(f"The {name} number {text} fails its check digit: check each digit.", code=code)
    return text


def parse_rpps(raw: str) -> str:
    """A health professional's RPPS number: 11 digits, Luhn check."""
    return _parse_luhn(raw, length=11, name="RPPS", code="invalid-rpps")


def parse_finess(raw: str) -> str:
    """An establishment's FINESS number: 9 digits, Luhn check."""
    return _parse_luhn(raw, length=9, name="FINESS", code="invalid-finess")
