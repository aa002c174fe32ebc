"""Hash chains of audit entries, one per patient: pure functions to link entries and to check a chain.

Each entry's hash covers its content and the previous entry's hash, so editing, deleting, reordering or
inserting an entry breaks the chain from that point on, and the chain's head (kept apart) tells truncation.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

GENESIS = bytes(32)
NO_RECORD = uuid.UUID(int=0)  # the chain of decisions that concern no record (e.g. card challenges)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One gate decision or change of rights, before it has its place in a chain. Never medical content."""

    chain_id: uuid.UUID
    at: datetime
    actor_kind: str
    actor_ref: str
    profession: str | None
    organisation: str | None
    mode: str
    action: str
    subject: str | None
    allowed: bool
    reason: str
    source: str | None
    request_id: str | None


def canonical(event: AuditEvent, seq: int) -> bytes:
    fields = asdict(event)
    fields["chain_id"] = str(event.chain_id)
    fields["at"] = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    fields["seq"] = seq
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(previous: bytes, event: AuditEvent, seq: int) -> bytes:
    return hashlib.sha256(b"carnet-audit-entry-v1\x00" + previous + canonical(event, seq)).digest()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    event: AuditEvent
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True, slots=True)
class Break:
    """The first place a chain is not what was written, and what it looks like happened."""

    chain_id: uuid.UUID
    seq: int
    problem: str

    def __str__(self) -> str:
        return f"chain {self.chain_id}, entry {self.seq}: {self.problem}"


def verify_chain(chain_id: uuid.UUID, entries: Sequence[StoredEntry], head: tuple[int, bytes] | None) -> Break | None:
    """Check one chain (entries in stored order) against its head; None when intact."""
    previous, expected_seq = GENESIS, 1
    for entry in entries:
        if entry.seq < expected_seq:
            return Break(chain_id, entry.seq, "entries are out of order or duplicated (reordered or inserted)")
        if entry.seq > expected_seq:
            return Break(chain_id, expected_seq, f"entries {expected_seq} to {entry.seq - 1} are missing (deleted)")
        if entry.prev_hash != previous:
            return Break(chain_id, entry.seq, "it does not follow the entry before it (inserted or reordered)")
        if entry_hash(previous, entry.event, entry.seq) != entry.hash:
            return Break(chain_id, entry.seq, "its content no longer matches its hash (edited)")
        previous, expected_seq = entry.hash, expected_seq + 1
    last = expected_seq - 1
    if head is None:
        return Break(chain_id, 1, "the chain has entries but no head (head deleted)") if entries else None
    head_seq, head_hash = head
    if head_seq > last:
        return Break(chain_id, last + 1, f"entries {last + 1} to {head_seq} are missing (truncated)")
    if head_seq < last:
        return Break(chain_id, head_seq + 1, "entries follow the head (inserted at the end)")
    if head_hash != previous:
        return Break(chain_id, last, "the chain does not end where its head says (edited or replaced)")
    return None
