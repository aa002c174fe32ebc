"""Seals: chain heads appended to an RFC 6962 Merkle log kept in PostgreSQL, its root signed with Ed25519.

A seal proves every entry up to the sealed heads: an entry's hash chain leads to a sealed head, the head's
leaf is included in a signed root (inclusion proof), and each signed root extends the one before it
(consistency proof). Rewriting the trail, even rehashing every chain, then needs the signing key, which
never enters the database.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pymerkle import BaseMerkleTree, InvalidProof, verify_consistency, verify_inclusion
from pymerkle.proof import MerkleProof
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from carnet.audit.chain import StoredEntry, entry_hash
from carnet.audit.models import AuditHead, Seal, SealLeaf
from carnet.kit import clock
from carnet.kit.crypto import SealingKey
from carnet.kit.errors import NotFound


def leaf_data(chain_id: uuid.UUID, seq: int, head_hash: bytes) -> bytes:
    return chain_id.bytes + struct.pack(">Q", seq) + head_hash


class PostgresLog(BaseMerkleTree):  # type: ignore[misc]
    """pymerkle's RFC 6962 tree over the audit_seal_leaves table, inside the caller's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session
        super().__init__("sha256", disable_cache=True)

    def _encode_entry(self, data: bytes) -> bytes:
        return data

    def _store_leaf(self, data: bytes, digest: bytes) -> int:
        index = self._get_size() + 1
        chain_id, (seq,), head_hash = uuid.UUID(bytes=data[:16]), struct.unpack(">Q", data[16:24]), data[24:]
        self.session.add(SealLeaf(index=index, chain_id=chain_id, seq=seq, head_hash=head_hash, leaf_hash=digest))
        self.session.flush()
        return index

    def _get_leaf(self, index: int) -> bytes:
        return bytes(self.session.scalars(select(SealLeaf.leaf_hash).where(SealLeaf.index == index)).one())

    def _get_leaves(self, offset: int, width: int) -> list[bytes]:
        statement = (
            select(SealLeaf.leaf_hash)
            .where(SealLeaf.index > offset, SealLeaf.index <= offset + width)
            .order_by(SealLeaf.index)
        )
        return [bytes(h) for h in self.session.scalars(statement)]

    def _get_size(self) -> int:
        return int(self.session.scalar(select(func.coalesce(func.max(SealLeaf.index), 0))) or 0)


def seal_message(size: int, root: bytes) -> bytes:
    return b"carnet-audit-seal-v1\x00" + struct.pack(">Q", size) + root


def seal(session: Session, key: SealingKey) -> Seal | None:
    """Append every head that moved since the last seal and sign the new root; None when nothing moved."""
    moved = session.execute(
        select(AuditHead.chain_id, AuditHead.seq, AuditHead.hash)
        .where(AuditHead.seq > AuditHead.sealed_seq)
        .order_by(AuditHead.chain_id)
        .with_for_update()
    ).all()
    if not moved:
        return None
    session.execute(select(func.pg_advisory_xact_lock(_SEAL_LOCK)))  # one sealer at a time
    log = PostgresLog(session)
    for chain_id, seq, head_hash in moved:
        log.append_entry(leaf_data(chain_id, seq, bytes(head_hash)))
        session.execute(update(AuditHead).where(AuditHead.chain_id == chain_id).values(sealed_seq=seq))
    size, root = log.get_size(), log.get_root()
    sealed = Seal(
        size=size,
        created_at=clock.now(),
        root=root,
        key_id=key.key_id,
        signature=key.private.sign(seal_message(size, root)),
    )
    session.add(sealed)
    session.flush()
    return sealed


_SEAL_LOCK = 0x7365616C  # an arbitrary constant naming the sealer's advisory lock


@dataclass(frozen=True)
class EntryProof:
    """Everything needed to show, without the database, that one entry is part of a signed root."""

    entries: list[StoredEntry]  # from the entry up to the sealed head of its chain
    leaf_index: int
    inclusion: dict[str, object]  # pymerkle's serialized inclusion proof
    seal_size: int
    seal_root: bytes
    signature: bytes


def prove_entry(session: Session, chain: Sequence[StoredEntry], seq: int) -> EntryProof:
    """The proof that entry `seq` of this chain is sealed by the latest seal."""
    chain_id = chain[0].event.chain_id if chain else None
    latest = session.scalars(select(Seal).order_by(Seal.size.desc()).limit(1)).one_or_none()
    leaf = None
    if latest is not None and chain_id is not None:
        leaf = session.scalars(
            select(SealLeaf)
            .where(SealLeaf.chain_id == chain_id, SealLeaf.seq >= seq, SealLeaf.index <= latest.size)
            .order_by(SealLeaf.seq)
            .limit(1)
        ).one_or_none()
    if latest is None or leaf is None:
        raise NotFound("This entry is not sealed yet: the next seal will cover it.")
    path = [entry for entry in chain if seq <= entry.seq <= leaf.seq]
    inclusion = PostgresLog(session).prove_inclusion(leaf.index, latest.size).serialize()
    return EntryProof(path, leaf.index, inclusion, latest.size, bytes(latest.root), bytes(latest.signature))


def check_entry_proof(proof: EntryProof, public_key: bytes) -> bool:
    """Verify a proof with nothing but the sealing public key."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            proof.signature, seal_message(proof.seal_size, proof.seal_root)
        )
    except InvalidSignature:
        return False
    entries = proof.entries
    if not entries:
        return False
    previous = entries[0].prev_hash
    for entry in entries:
        if entry.prev_hash != previous or entry_hash(previous, entry.event, entry.seq) != entry.hash:
            return False
        previous = entry.hash
    last = entries[-1]
    leaf_hash = hashlib.sha256(b"\x00" + leaf_data(last.event.chain_id, last.seq, last.hash)).digest()
    try:
        verify_inclusion(leaf_hash, proof.seal_root, MerkleProof.deserialize(proof.inclusion))
    except InvalidProof:
        return False
    return True


def prove_consistency(session: Session, older: int, newer: int) -> dict[str, object]:
    return dict(PostgresLog(session).prove_consistency(older, newer).serialize())


def check_consistency(older_root: bytes, newer_root: bytes, proof: dict[str, object]) -> bool:
    try:
        verify_consistency(older_root, newer_root, MerkleProof.deserialize(proof))
    except InvalidProof:
        return False
    return True


@dataclass(frozen=True, slots=True)
class SealProblem:
    size: int
    problem: str

    def __str__(self) -> str:
        return f"seal at size {self.size}: {self.problem}"


def verify_seals(session: Session, public_key: bytes | None) -> list[SealProblem]:
    """Each seal's signature, its root recomputed from the log, and its consistency with the seal before it."""
    problems: list[SealProblem] = []
    seals = list(session.scalars(select(Seal).order_by(Seal.size)))
    log = PostgresLog(session)
    verifier = Ed25519PublicKey.from_public_bytes(public_key) if public_key else None
    previous: Seal | None = None
    for current in seals:
        if verifier is not None:
            try:
                verifier.verify(bytes(current.signature), seal_message(current.size, bytes(current.root)))
            except InvalidSignature:
                problems.append(SealProblem(current.size, "its signature is not the sealing key's (forged)"))
        if log.get_size() < current.size or log.get_root(current.size) != bytes(current.root):
            problems.append(SealProblem(current.size, "the sealed log no longer has this root (leaves changed)"))
        elif previous is not None and not check_consistency(
            bytes(previous.root), bytes(current.root), prove_consistency(session, previous.size, current.size)
        ):
            problems.append(SealProblem(current.size, "it does not extend the seal before it"))
        previous = current
    return problems
