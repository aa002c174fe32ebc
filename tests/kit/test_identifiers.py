from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carnet.kit.errors import Invalid
from carnet.kit.identifiers import luhn_check_digit, luhn_valid, nir_key, parse_finess, parse_ins, parse_rpps
from carnet.kit.professions import PROFESSIONS, parse_profession

sexes = st.sampled_from("123478")
months = st.one_of(st.integers(1, 12), st.integers(20, 99)).map(lambda m: f"{m:02d}")
places = st.one_of(st.integers(1, 99).map(lambda d: f"{d:02d}"), st.sampled_from(["2A", "2B"]))
nirs = st.builds(
    lambda sex, year, month, place, rest: f"{sex}{year:02d}{month}{place}{rest:06d}",
    sexes,
    st.integers(0, 99),
    months,
    places,
    st.integers(0, 999_999),
)


def expected_key(nir: str) -> str:
    """The key by its definition, written independently of the code under test."""
    numeric = nir[:5] + {"2A": "19", "2B": "18"}.get(nir[5:7], nir[5:7]) + nir[7:]
    return f"{97 - int(numeric) % 97:02d}"


@given(nirs)
def test_ins_with_its_key_is_accepted_with_or_without_spaces(nir: str) -> None:
    ins = nir + expected_key(nir)
    assert parse_ins(ins).value == ins
    assert parse_ins(parse_ins(ins).formatted).value == ins


@given(nirs, st.integers(0, 12), st.integers(1, 9))
def test_a_changed_digit_is_caught_by_the_key(nir: str, position: int, delta: int) -> None:
    ins = nir + expected_key(nir)
    if not ins[position].isdigit():
        return
    changed = ins[:position] + str((int(ins[position]) + delta) % 10) + ins[position + 1 :]
    # Changing a digit changes the number by a multiple of a power of ten, never of 97: the key catches it
    # unless the change broke the structure first (both are refusals).
    with pytest.raises(Invalid):
        parse_ins(changed)


def test_corsica_counts_2a_as_19_and_2b_as_18() -> None:
    assert nir_key("180122A123456") == expected_key("180122A123456")
    assert nir_key("180122A123456") == f"{97 - 1801219123456 % 97:02d}"
    assert nir_key("180122B123456") == f"{97 - 1801218123456 % 97:02d}"
    assert parse_ins("180122B123456" + nir_key("180122B123456")).nir[5:7] == "2B"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", "15 characters"),
        ("28503751234561", "15 characters"),
        ("585037512345612", "malformed"),  # no sex digit 5
        ("2850375123456XX", "key does not match"),
        ("28503752C123456", "malformed"),
    ],
)
def test_malformed_ins_is_refused_with_a_reason(raw: str, fragment: str) -> None:
    with pytest.raises(Invalid, match=fragment):
        parse_ins(raw)


def test_wrong_key_is_refused() -> None:
    nir = "2850375123456"
    wrong = f"{(int(expected_key(nir)) % 97) + 1:02d}"
    with pytest.raises(Invalid, match="key does not match"):
        parse_ins(nir + wrong)


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_check_digit_makes_a_valid_number(payload: str) -> None:
    assert luhn_valid(payload + luhn_check_digit(payload))


def test_luhn_known_values() -> None:
    assert luhn_valid("79927398713")  # the textbook example
    assert not luhn_valid("79927398710")


def test_rpps_and_finess() -> None:
    rpps = "1000000001" + luhn_check_digit("1000000001")
    assert parse_rpps(f" {rpps[:5]} {rpps[5:]} ") == rpps
    finess = "75000001" + luhn_check_digit("75000001")
    assert parse_finess(finess) == finess


@pytest.mark.parametrize(
    ("parser", "raw", "fragment"),
    [
        (parse_rpps, "1234", "11 digits"),
        (parse_rpps, "1000000001A", "11 digits"),
        (parse_rpps, "10000000010" if luhn_check_digit("1000000001") != "0" else "10000000011", "check digit"),
        (parse_finess, "75000001", "9 digits"),
        (parse_finess, "750000010" if luhn_check_digit("75000001") != "0" else "750000011", "check digit"),
    ],
)
def test_bad_rpps_and_finess_are_refused(parser: object, raw: str, fragment: str) -> None:
    assert callable(parser)
    with pytest.raises(Invalid, match=fragment):
        parser(raw)


def test_professions() -> None:
    for code in ("10", "21", "40", "50", "60", "70", "80"):
        assert parse_profession(code) == code
    assert PROFESSIONS["80"] == "Pédicure-podologue"
    with pytest.raises(Invalid, match="Unknown profession code '99'"):
        parse_profession("99")
