"""The directory as the patient's portal searches it: by RPPS number or by a part of the name."""

from __future__ import annotations

import pytest

from carnet.context import Context
from carnet.identity.directory import entry_of, find, names_of, set_entry
from carnet.kit.errors import Invalid, NotFound
from tests.factories import rpps


def _add(ctx: Context, seed: int, name: str, profession: str = "10") -> str:
    number = rpps(seed)
    set_entry(ctx.session, operator="test", rpps=number, name=name, profession=profession, email="a@example.org")
    return number


def test_find_by_number_or_by_a_part_of_the_name(ctx: Context) -> None:
    doctor = _add(ctx, 501, "Dr Hélène Du_Pont")
    nurse = _add(ctx, 502, "Marc Dupontel", "60")
    assert [e.rpps for e in find(ctx.session, doctor)] == [doctor]
    assert [e.rpps for e in find(ctx.session, f"{doctor[:4]} {doctor[4:]}")] == [doctor]  # as printed, in groups
    assert find(ctx.session, rpps(503)) == []
    assert {e.rpps for e in find(ctx.session, "dupont")} == {nurse}  # "_" is a letter here, not a wildcard
    assert [e.name for e in find(ctx.session, "du_")] == ["Dr Hélène Du_Pont"]
    assert [e.profession for e in find(ctx.session, "  HÉLÈNE   du_pont ")] == ["10"]
    with pytest.raises(Invalid, match="at least 2 letters"):
        find(ctx.session, "d")
    with pytest.raises(Invalid, match="check digit"):
        find(ctx.session, doctor[:-1] + str((int(doctor[-1]) + 1) % 10))


def test_one_entry_and_many_by_number(ctx: Context) -> None:
    doctor = _add(ctx, 511, "Dr Anne Roche")
    assert entry_of(ctx.session, doctor).name == "Dr Anne Roche"
    with pytest.raises(NotFound):
        entry_of(ctx.session, rpps(512))
    assert set(names_of(ctx.session, [doctor, rpps(512)])) == {doctor}
    assert names_of(ctx.session, []) == {}
