"""Writing the trail (at the end of each unit of work, or after it failed) and proving it intact."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from sqlalchemy.orm import Session

from carnet.audit import repository
from carnet.audit.chain import AuditEvent, Break, entry_hash, verify_chain
from carnet.kit import clock


def write_events(session: Session, events: Sequence[AuditEvent]) -> int:
    """Append events to their chains, in order; chains are locked one by one in a fixed order."""
    now = clock.now()
    by_chain: dict[uuid.UUID, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain_id, []).append(event)
    for chain_id in sorted(by_chain):
        seq, previous = repository.lock_head(session, chain_id, now)
        rows = []
        for event in by_chain[chain_id]:
            seq += 1
            digest = entry_hash(previous, event, seq)
            rows.append({**asdict(event), "seq": seq, "prev_hash": previous, "hash": digest})
            previous = digest
        repository.insert_entries(session, rows)
        repository.move_head(session, chain_id, seq, previous, now)
    return len(events)


def verify(session: Session, chain_id: uuid.UUID | None = None) -> Iterator[tuple[uuid.UUID, Break | None]]:
    """Each chain checked (or the one asked for), with its first break or None."""
    heads = repository.heads(session, chain_id)
    chains = [chain_id] if chain_id is not None else repository.chain_ids(session)
    for chain in chains:
        yield chain, verify_chain(chain, list(repository.chain_entries(session, chain)), heads.get(chain))
