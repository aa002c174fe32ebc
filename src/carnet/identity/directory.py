"""The professional directory, kept by operators from the national registry (name, profession, address)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from carnet.identity.models import DirectoryEntry
from carnet.kit import clock
from carnet.kit.errors import Invalid, NotFound
from carnet.kit.identifiers import EMAIL, parse_rpps
from carnet.kit.professions import parse_profession


def set_entry(session: Session, *, operator: str, rpps: str, name: str, profession: str, email: str) -> None:
    """Add or update a professional's entry; operators record who they are."""
    rpps, profession = parse_rpps(rpps), parse_profession(profession)
    name, email, operator = name.strip(), email.strip(), operator.strip()
    if not name or len(name) > 120:
        raise Invalid("A professional's name has 1 to 120 characters.", code="invalid-name")
    if not EMAIL.match(email):
        raise Invalid("The professional's messaging address is not a valid e-mail address.", code="invalid-email")
    if not operator:
        raise Invalid("A directory change names its operator.", code="invalid-operator")
    entry = session.get(DirectoryEntry, rpps) or DirectoryEntry(rpps=rpps)
    entry.name, entry.profession, entry.email = name, profession, email
    entry.updated_at, entry.updated_by = clock.now(), operator
    session.add(entry)
    session.flush()


def address_of(session: Session, rpps: str) -> str | None:
    entry = session.get(DirectoryEntry, rpps)
    return entry.email if entry is not None else None


@dataclass(frozen=True, slots=True)
class Listed:
    """What a patient may learn of a professional: who they are and their profession, not how to reach them."""

    rpps: str
    name: str
    profession: str


MIN_NAME = 2
UNKNOWN_PROFESSIONAL = "No professional with this RPPS number is in the directory."


def _listed(entry: DirectoryEntry) -> Listed:
    return Listed(entry.rpps, entry.name, entry.profession)


def find(session: Session, text: str, *, limit: int = 10) -> list[Listed]:
    """Professionals by RPPS number (all digits: checked, then exact) or by a part of their name, by name."""
    text = " ".join(text.split())
    if text.replace(" ", "").isdigit():  # a number as printed, in groups or not
        entry = session.get(DirectoryEntry, parse_rpps(text.replace(" ", "")))
        return [_listed(entry)] if entry is not None else []
    if len(text) < MIN_NAME:
        raise Invalid("Enter at least 2 letters of the name, or the 11-digit RPPS number.", code="search-too-short")
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    statement = (
        select(DirectoryEntry)
        .where(DirectoryEntry.name.ilike(pattern))
        .order_by(DirectoryEntry.name, DirectoryEntry.rpps)
        .limit(limit)
    )
    return [_listed(entry) for entry in session.scalars(statement)]


def listing(session: Session, *, limit: int) -> list[Listed]:
    """The directory by name, for development's sign-in picker (production's identity provider names people)."""
    statement = select(DirectoryEntry).order_by(DirectoryEntry.name, DirectoryEntry.rpps).limit(limit)
    return [_listed(entry) for entry in session.scalars(statement)]


def entry_of(session: Session, rpps: str) -> Listed:
    """The directory's entry for this RPPS number; NotFound when the directory does not know it."""
    entry = session.get(DirectoryEntry, parse_rpps(rpps))
    if entry is None:
        raise NotFound(UNKNOWN_PROFESSIONAL, code="unknown-professional")
    return _listed(entry)


def names_of(session: Session, rpps: Iterable[str]) -> dict[str, Listed]:
    """The entries the directory has among these numbers (a history names who it can, numbers the others)."""
    wanted = sorted(set(rpps))
    if not wanted:
        return {}
    return {e.rpps: _listed(e) for e in session.scalars(select(DirectoryEntry).where(DirectoryEntry.rpps.in_(wanted)))}
