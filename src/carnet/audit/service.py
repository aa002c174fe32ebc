"""Writing the trail (at the end of each unit of work, or after it failed) and proving it intact."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy.orm import Session

from carnet.audit import repository
from carnet.audit.chain import AuditEvent, Break, StoredEntry, entry_hash, verify_chain
from carnet.kit import clock


def write_events(session: Session, events: Sequence[AuditEvent]) -> int:
    """Append events to their chains, in order; chains are locked one by one in a fixed order."""
    now = clock.now()
    by_chain: dict[uuid.UUID, list[AuditEvent]] = {}
    for event in events:
        by_chain.setdefault(event.chain_id, []).append(event)
    for chain_id in sorted(by_chain):
        chain_events = by_chain[chain_id]
        seq, previous = repository.reserve(session, chain_id, len(chain_events), now)
        rows = []
        for event in chain_events:
            seq += 1
            digest = entry_hash(previous, event, seq)
            rows.append({**asdict(event), "seq": seq, "prev_hash": previous, "hash": digest})
            previous = digest
        repository.append(session, chain_id, rows)
    return len(events)


@dataclass(frozen=True, slots=True)
class VerifyReport:
    chains: int
    entries: int
    breaks: list[Break]


def verify(session: Session, chains: Sequence[uuid.UUID] | None = None) -> VerifyReport:
    """Check every chain (or those given): each one's first break, if any."""
    heads = repository.heads(session, None)
    selected = list(chains) if chains is not None else repository.chain_ids(session)
    entries, breaks = 0, []
    for chain in selected:
        stored = list(repository.chain_entries(session, chain))
        entries += len(stored)
        found = verify_chain(chain, stored, heads.get(chain)) or _against_seals(session, chain, stored)
        if found is not None:
            breaks.append(found)
    return VerifyReport(chains=len(selected), entries=entries, breaks=breaks)


def _against_seals(session: Session, chain: uuid.UUID, stored: Sequence[StoredEntry]) -> Break | None:
    """A chain consistent in itself must still hold every head that was sealed: else it was rewritten."""
    by_seq = {entry.seq: entry.hash for entry in stored}
    for seq, head_hash in repository.sealed_heads(session, chain):
        if by_seq.get(seq) != head_hash:
            return Break(chain, seq, "it differs from what was sealed (the chain was rewritten)")
    return None
