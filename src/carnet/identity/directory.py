"""The professional directory, kept by operators from the national registry (name, profession, address)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carnet.identity.models import DirectoryEntry
from carnet.kit import clock
from carnet.kit.errors import Invalid
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
