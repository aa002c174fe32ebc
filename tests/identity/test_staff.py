"""Staff sessions: the identity a sign-in proved, kept server-side, ended by idleness, the day's end or sign-out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carnet.access.actor import ActorKind
from carnet.context import Context
from carnet.identity import staff
from carnet.identity.directory import set_entry
from carnet.kit import clock
from carnet.kit.errors import Invalid, NotFound, Unauthenticated
from tests.factories import rpps


def _doctor(ctx: Context) -> str:
    number = rpps()
    set_entry(ctx.session, operator="test", rpps=number, name="Dr Test", profession="10", email="d@example.org")
    return number


def test_a_session_gives_back_the_actor_the_sign_in_proved(ctx: Context) -> None:
    number = _doctor(ctx)
    identity = staff.professional_identity(ctx, number, "440000289")
    token = staff.start(ctx, identity, via="development", address="10.0.0.1")
    member = staff.resolve(ctx, token)
    assert member.actor.kind is ActorKind.PROFESSIONAL
    assert (member.actor.ref, member.actor.profession, member.actor.organisation) == (number, "10", "440000289")
    with pytest.raises(Unauthenticated):
        staff.resolve(ctx, token, ("desk",))  # a session opens its own space only


def test_idle_and_ended_sessions_are_refused(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    start, elapsed = clock.now(), [timedelta(0)]
    monkeypatch.setattr(clock, "now", lambda: start + elapsed[0])
    token = staff.start(ctx, staff.desk_identity("A1", "CPAM75"), via="development", address="10.0.0.1")
    elapsed[0] = staff.IDLE_TIMEOUT - timedelta(seconds=1)
    staff.resolve(ctx, token)  # used: kept alive
    elapsed[0] += staff.IDLE_TIMEOUT - timedelta(seconds=1)
    staff.resolve(ctx, token)
    elapsed[0] += staff.IDLE_TIMEOUT + timedelta(seconds=1)
    with pytest.raises(Unauthenticated):
        staff.resolve(ctx, token)
    other = staff.start(ctx, staff.desk_identity("A1", "CPAM75"), via="development", address="10.0.0.1")
    staff.end(ctx, other)
    with pytest.raises(Unauthenticated):
        staff.resolve(ctx, other)
    with pytest.raises(Unauthenticated):
        staff.resolve(ctx, "not-a-token")


def test_identities_are_checked(ctx: Context) -> None:
    number = _doctor(ctx)
    with pytest.raises(Invalid, match="not a pharmacist"):
        staff.pharmacy_identity(ctx, number, "750000028")
    with pytest.raises(NotFound):
        staff.professional_identity(ctx, rpps(999_998))  # not in the directory
    with pytest.raises(Invalid):
        staff.desk_identity("", "CPAM75")
    with pytest.raises(Invalid):
        staff.desk_identity("A1", "CPAM 75")
