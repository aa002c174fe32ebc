"""Signed seals of the chain heads: what they prove, and the rewrites only they can catch."""

from __future__ import annotations

import base64
import dataclasses
import os
import shutil
import subprocess
import uuid

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from carnet.audit import repository
from carnet.audit.chain import GENESIS, entry_hash
from carnet.audit.models import AuditEntry, AuditHead, Seal
from carnet.audit.seal import (
    check_consistency,
    check_entry_proof,
    prove_consistency,
    prove_entry,
    seal,
    verify_seals,
)
from carnet.audit.service import verify
from carnet.kit.crypto import SealingKey, generate_master_key_text, parse_master_keys
from carnet.kit.db import make_sessionmaker
from carnet.kit.errors import NotFound
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import unit_of_work
from tests.audit.conftest import DOCTOR, Trail

KEY = SealingKey.from_text(generate_master_key_text(), source="test")


def sealed(trail: Trail) -> Seal | None:
    with Session(trail.app, expire_on_commit=False) as session, session.begin():
        return seal(session, KEY)


def test_sealing_signs_a_growing_log_whose_roots_stay_consistent(trail: Trail) -> None:
    first = sealed(trail)
    assert first is not None and first.size == 2  # one leaf per patient chain
    assert sealed(trail) is None  # nothing moved
    keys = parse_master_keys(trail.key, source="test")
    with unit_of_work(make_sessionmaker(trail.app), keys, max_document_bytes=1) as ctx:
        list_documents(ctx, DOCTOR, trail.patients[0], DocumentQuery())
    second = sealed(trail)
    assert second is not None and second.size == 3
    with Session(trail.app) as session:
        proof = prove_consistency(session, first.size, second.size)
        assert check_consistency(first.root, second.root, proof)
        assert not check_consistency(first.root, bytes(32), proof)
        assert verify_seals(session, KEY.public()) == []
        other = SealingKey.from_text(generate_master_key_text(), source="test")
        assert {p.problem for p in verify_seals(session, other.public())} == {
            "its signature is not the sealing key's (forged)"
        }


def test_an_entry_is_proven_with_nothing_but_the_public_key(trail: Trail) -> None:
    sealed(trail)
    patient = trail.patients[0]
    with Session(trail.app) as session:
        chain = list(repository.chain_entries(session, patient))
        proof = prove_entry(session, chain, 2)
    assert [e.seq for e in proof.entries] == [2, 3, 4]
    assert check_entry_proof(proof, KEY.public())
    other = SealingKey.from_text(generate_master_key_text(), source="test")
    assert not check_entry_proof(proof, other.public())
    edited = dataclasses.replace(proof.entries[0], event=dataclasses.replace(proof.entries[0].event, allowed=False))
    assert not check_entry_proof(dataclasses.replace(proof, entries=[edited, *proof.entries[1:]]), KEY.public())
    with Session(trail.app) as session, pytest.raises(NotFound, match="not sealed yet"):
        prove_entry(session, [], 1)


def test_a_chain_rewritten_and_rehashed_end_to_end_is_caught_by_its_seal(trail: Trail) -> None:
    """Without the seal, rewriting an entry and rehashing everything after it leaves a consistent chain."""
    sealed(trail)
    patient = trail.patients[0]
    with Session(trail.owner) as session, session.begin():
        session.execute(text("SET LOCAL session_replication_role = replica"))
        chain = list(repository.chain_entries(session, patient))
        previous = GENESIS
        for entry in chain:
            event = dataclasses.replace(entry.event, allowed=False) if entry.seq == 2 else entry.event
            digest = entry_hash(previous, event, entry.seq)
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.chain_id == patient, AuditEntry.seq == entry.seq)
                .values(allowed=event.allowed, prev_hash=previous, hash=digest)
            )
            previous = digest
        session.execute(update(AuditHead).where(AuditHead.chain_id == patient).values(hash=previous))
    with Session(trail.app) as session:
        (found,) = verify(session).breaks
    assert found.chain_id == patient and "differs from what was sealed" in found.problem


def test_seals_are_append_only_and_a_changed_log_is_caught(trail: Trail) -> None:
    sealed(trail)
    with trail.app.connect() as connection, pytest.raises(DBAPIError, match="permission denied"):
        connection.execute(text("UPDATE audit_seals SET root = root"))
    with Session(trail.owner) as session, session.begin():
        session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text("UPDATE audit_seal_leaves SET leaf_hash = sha256(leaf_hash) WHERE index = 1"))
    with Session(trail.app) as session:
        problems = verify_seals(session, KEY.public())
    assert [p.problem for p in problems] == ["the sealed log no longer has this root (leaves changed)"]


def test_carnet_audit_seal_and_verify(trail: Trail) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    key_text = base64.b64encode(os.urandom(32)).decode()
    env.update(CARNET_DATABASE_URL=trail.url, CARNET_MASTER_KEY=trail.key)
    carnet = shutil.which("carnet") or "carnet"

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [carnet, *args], env={**env, **extra}, capture_output=True, text=True, timeout=120, check=False
        )

    refused = run("audit", "seal")
    assert refused.returncode == 2 and "No audit sealing key" in refused.stderr
    done = run("audit", "seal", CARNET_AUDIT_SEALING_KEY=key_text)
    assert done.returncode == 0 and "the log has 2 leaves" in done.stdout
    assert "Nothing new to seal." in run("audit", "seal", CARNET_AUDIT_SEALING_KEY=key_text).stdout
    checked = run("audit", "verify", CARNET_AUDIT_SEALING_KEY=key_text)
    assert checked.returncode == 0 and "Seal signatures were not checked" not in checked.stdout
    unchecked = run("audit", "verify")
    assert unchecked.returncode == 0 and "Seal signatures were not checked" in unchecked.stdout
    wrong = run("audit", "verify", CARNET_AUDIT_SEALING_KEY=base64.b64encode(os.urandom(32)).decode())
    assert wrong.returncode == 1 and "forged" in wrong.stderr
    with Session(trail.app) as session:
        assert session.scalar(select(Seal.size)) == 2
    assert uuid.UUID(int=0) not in trail.patients
