"""Portal sessions of the people who work with records: health professionals, pharmacy counters, insurance desks.

They hold no Carnet account. A professional or a pharmacist is proven by their identity provider (OpenID
Connect in production), a desk agent by the insurer's; in development a picker names one from the directory.
Either way the sign-in ends here: `start` keeps the proven identity in a session row keyed by the digest of a
random token, and `resolve` turns the cookie back into the Actor every service receives. The space decides which
pages are theirs: a pharmacist signed in at the counter opens records for the pharmacy (channel `pharmacy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.identity import directory
from carnet.identity.models import StaffSession
from carnet.kit import clock
from carnet.kit.errors import Invalid, Unauthenticated
from carnet.kit.identifiers import parse_finess
from carnet.kit.secrets import digest, new_token

Space = Literal["professional", "pharmacy", "desk"]
SPACES: tuple[Space, ...] = ("professional", "pharmacy", "desk")
Via = Literal["oidc", "development"]

IDLE_TIMEOUT = timedelta(minutes=30)  # a surgery's or a counter's screen left alone
ABSOLUTE_LIFETIME = timedelta(hours=12)  # one working day
TOUCH_EVERY = timedelta(minutes=1)
PHARMACIST = "21"
MAX_STAFF_ID = 32


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    """Who a sign-in proved: the space they work in and the Actor they are there."""

    space: Space
    ref: str  # RPPS, or the desk agent's staff id
    name: str
    profession: str | None = None
    organisation: str | None = None  # FINESS (a pharmacy, a hospital), or the desk's office code

    @property
    def actor(self) -> Actor:
        if self.space == "desk":
            return Actor.desk(self.ref, self.organisation)
        return Actor.professional(self.ref, self.profession or "", self.organisation)


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in person, as their session proves them."""

    identity: StaffIdentity
    started_at: datetime
    expires_at: datetime

    @property
    def actor(self) -> Actor:
        return self.identity.actor


def _code(text: str, what: str, code: str) -> str:
    text = text.strip().upper()
    if not text or len(text) > MAX_STAFF_ID or not text.isalnum() or not text.isascii():
        raise Invalid(f"{what} has 1 to {MAX_STAFF_ID} letters or digits.", code=code)
    return text


def professional_identity(ctx: Context, rpps: str, organisation: str | None = None) -> StaffIdentity:
    """A professional the directory knows, working alone or for an establishment (FINESS)."""
    listed = directory.entry_of(ctx.session, rpps)
    finess = parse_finess(organisation) if organisation and organisation.strip() else None
    return StaffIdentity("professional", listed.rpps, listed.name, listed.profession, finess)


def pharmacy_identity(ctx: Context, rpps: str, finess: str) -> StaffIdentity:
    """A pharmacist at their pharmacy's counter: the pharmacy (FINESS) is who opens records and is paid for them."""
    listed = directory.entry_of(ctx.session, rpps)
    if listed.profession != PHARMACIST:
        raise Invalid("This RPPS number is not a pharmacist's in the directory.", code="not-a-pharmacist")
    if not finess.strip():
        raise Invalid("Enter the pharmacy's FINESS number.", code="invalid-finess")
    return StaffIdentity("pharmacy", listed.rpps, listed.name, PHARMACIST, parse_finess(finess))


def desk_identity(staff_id: str, office: str) -> StaffIdentity:
    """An insurance desk agent: their staff id and their office's code (they read nothing medical)."""
    agent = _code(staff_id, "A staff id", "invalid-staff-id")
    return StaffIdentity("desk", agent, agent, None, _code(office, "An office code", "invalid-office"))


def start(ctx: Context, identity: StaffIdentity, *, via: Via, address: str) -> str:
    """A session for a proven identity; the token is returned once, for the cookie."""
    token, now = new_token(), clock.now()
    ctx.session.add(
        StaffSession(
            token_hash=digest(token),
            space=identity.space,
            ref=identity.ref,
            name=identity.name[:120],
            profession=identity.profession,
            organisation=identity.organisation,
            via=via,
            created_at=now,
            last_seen_at=now,
            expires_at=now + ABSOLUTE_LIFETIME,
            revoked_at=None,
            address=address[:64],
        )
    )
    ctx.session.flush()
    return token


def resolve(ctx: Context, token: str, spaces: tuple[Space, ...] = SPACES) -> Staff:
    """The session behind a cookie, kept alive by this request; refused once idle, ended, or for another space."""
    now = clock.now()
    row = ctx.session.get(StaffSession, digest(token))
    if (
        row is None
        or row.space not in spaces
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + IDLE_TIMEOUT <= now
    ):
        raise Unauthenticated("Your session has ended: sign in again.", code="session-ended")
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    space: Space = "desk" if row.space == "desk" else "pharmacy" if row.space == "pharmacy" else "professional"
    identity = StaffIdentity(space, row.ref, row.name, row.profession, row.organisation)
    return Staff(identity, row.created_at, row.expires_at)


def end(ctx: Context, token: str) -> None:
    ctx.session.execute(
        update(StaffSession)
        .where(StaffSession.token_hash == digest(token), StaffSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )
