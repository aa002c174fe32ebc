from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from carnet.audit.chain import GENESIS, AuditEvent, StoredEntry, entry_hash, verify_chain
from carnet.audit.service import verify, write_events

CHAIN = uuid.uuid4()


def event(n: int) -> AuditEvent:
    return AuditEvent(
        chain_id=CHAIN,
        at=datetime(2026, 11, 22, tzinfo=UTC) + timedelta(seconds=n),
        actor_kind="professional",
        actor_ref="10000000018",
        profession="10",
        organisation=None,
        mode="normal",
        action="document.read",
        subject=f"document:{n}",
        allowed=True,
        reason="authorised",
        source="127.0.0.1",
        request_id=None,
    )


def chain(length: int) -> list[StoredEntry]:
    entries, previous = [], GENESIS
    for seq in range(1, length + 1):
        digest = entry_hash(previous, event(seq), seq)
        entries.append(StoredEntry(seq, event(seq), previous, digest))
        previous = digest
    return entries


def head(entries: list[StoredEntry]) -> tuple[int, bytes]:
    return entries[-1].seq, entries[-1].hash


def test_an_intact_chain_verifies() -> None:
    entries = chain(5)
    assert verify_chain(CHAIN, entries, head(entries)) is None
    assert verify_chain(CHAIN, [], None) is None


def altered(value: object) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    if isinstance(value, uuid.UUID):
        return uuid.uuid4()
    return "x"  # None


def test_the_hash_covers_every_field() -> None:
    base = event(1)
    digests = {entry_hash(GENESIS, base, 1), entry_hash(GENESIS, base, 2), entry_hash(b"\x01" * 32, base, 1)}
    for field in dataclasses.fields(AuditEvent):
        changed = altered(getattr(base, field.name))
        digests.add(entry_hash(GENESIS, dataclasses.replace(base, **{field.name: changed}), 1))
    assert len(digests) == 3 + len(dataclasses.fields(AuditEvent))


def test_each_kind_of_tampering_is_named() -> None:
    entries = chain(6)
    top = head(entries)
    edited = [
        *entries[:2],
        dataclasses.replace(entries[2], event=dataclasses.replace(entries[2].event, allowed=False)),
        *entries[3:],
    ]
    assert "edited" in str(verify_chain(CHAIN, edited, top))
    assert verify_chain(CHAIN, edited, top).seq == 3  # type: ignore[union-attr]
    deleted = entries[:2] + entries[3:]
    assert "missing (deleted)" in str(verify_chain(CHAIN, deleted, top))
    swapped = [
        *entries[:2],
        dataclasses.replace(entries[3], seq=3),
        dataclasses.replace(entries[2], seq=4),
        *entries[4:],
    ]
    assert "inserted or reordered" in str(verify_chain(CHAIN, swapped, top))
    assert "missing (truncated)" in str(verify_chain(CHAIN, entries[:4], top))
    forged_tail = chain(7)
    assert "inserted at the end" in str(verify_chain(CHAIN, forged_tail, top))
    assert "head deleted" in str(verify_chain(CHAIN, entries, None))


def test_a_large_unit_of_work_is_appended_whole(session: Session) -> None:
    """An import job's thousands of decisions: more rows than one statement may carry as single parameters."""
    events = [dataclasses.replace(event(n), chain_id=CHAIN) for n in range(5000)]
    assert write_events(session, events) == len(events)
    report = verify(session, [CHAIN])
    assert report.breaks == [] and report.entries == len(events)
