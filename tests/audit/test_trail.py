"""The trail on real PostgreSQL: what gets written, what cannot be changed, and what verification catches."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from carnet.access.actor import Actor
from carnet.access.service import block
from carnet.audit.chain import NO_RECORD
from carnet.audit.models import AuditEntry, AuditHead
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_sessionmaker
from carnet.kit.errors import Forbidden, NotFound
from carnet.records.documents import get_document, list_documents
from carnet.records.schemas import DocumentQuery
from carnet.records.service import destroy_record, request_destruction
from carnet.runtime import unit_of_work
from tests.audit.conftest import DOCTOR, Trail
from tests.factories import rpps


def entries(engine: Engine, chain: uuid.UUID) -> list[tuple[int, str, bool, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(AuditEntry.seq, AuditEntry.action, AuditEntry.allowed, AuditEntry.reason)
            .where(AuditEntry.chain_id == chain)
            .order_by(AuditEntry.seq)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_each_decision_is_one_entry_in_its_patients_chain(trail: Trail) -> None:
    first, second = trail.patients
    assert entries(trail.app, first) == [
        (1, "record.open", True, "system-job"),
        (2, "document.deposit", True, "system-job"),
        (3, "settings.change", True, "own-record"),
        (4, "document.list", True, "authorised"),
    ]
    assert len(entries(trail.app, second)) == 4
    with trail.app.connect() as connection:
        source = connection.scalar(select(AuditEntry.source).where(AuditEntry.chain_id == first, AuditEntry.seq == 4))
        subject = connection.scalar(select(AuditEntry.subject).where(AuditEntry.chain_id == first, AuditEntry.seq == 3))
    assert source == "10.0.0.7"
    assert subject == f"authorise:{DOCTOR.ref}:read_write"


def test_a_refusal_is_recorded_even_though_the_request_fails(trail: Trail) -> None:
    patient_id = trail.patients[0]
    sessions = make_sessionmaker(trail.app)
    keys = parse_master_keys(trail.key, source="test")
    stranger = Actor.professional(rpps(22), "21")
    with pytest.raises(Forbidden), unit_of_work(sessions, keys, max_document_bytes=1) as ctx:
        list_documents(ctx, stranger, patient_id, DocumentQuery())
    with pytest.raises(NotFound), unit_of_work(sessions, keys, max_document_bytes=1) as ctx:
        get_document(ctx, DOCTOR, patient_id, uuid.uuid4())
    with pytest.raises(Forbidden), unit_of_work(sessions, keys, max_document_bytes=1) as ctx:
        block(ctx, Actor.patient(patient_id), patient_id, stranger.ref)  # allowed and done...
        list_documents(ctx, stranger, patient_id, DocumentQuery())  # ...then refused: all rolled back but the trail
    assert entries(trail.app, patient_id)[4:] == [
        (5, "document.list", False, "not-authorised"),
        (6, "document.read", False, "not-found"),
        (7, "settings.change", True, "own-record"),
        (8, "document.list", False, "blocked"),  # the trail keeps the true reason; the professional is not told
    ]
    with trail.app.connect() as connection:
        probes = connection.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.chain_id == NO_RECORD))
    assert probes == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_entries SET allowed = NOT allowed", "DELETE FROM audit_entries", "TRUNCATE audit_entries"],
)
def test_the_application_role_cannot_change_or_remove_entries(trail: Trail, statement: str) -> None:
    for engine, refusal in ((trail.app, "permission denied"), (trail.owner, "append-only")):
        with engine.connect() as connection, pytest.raises(DBAPIError, match=refusal):
            connection.execute(text(statement))
    assert len(entries(trail.owner, trail.patients[0])) == 4


def carnet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [shutil.which("carnet") or "carnet", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def tamper(trail: Trail, *statements: str) -> None:
    """As a superuser with the triggers off: what an attacker with full database rights could do."""
    with trail.owner.begin() as connection:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for statement in statements:
            connection.execute(text(statement), {"chain": trail.patients[0]})


TAMPERING = {
    "edit": (["UPDATE audit_entries SET allowed = false WHERE chain_id = :chain AND seq = 2"], 2, "edited"),
    "delete": (["DELETE FROM audit_entries WHERE chain_id = :chain AND seq = 2"], 2, "deleted"),
    "reorder": (
        [
            "UPDATE audit_entries SET seq = 100 WHERE chain_id = :chain AND seq = 2",
            "UPDATE audit_entries SET seq = 2 WHERE chain_id = :chain AND seq = 3",
            "UPDATE audit_entries SET seq = 3 WHERE chain_id = :chain AND seq = 100",
        ],
        2,
        "reordered",
    ),
    "insert": (
        [
            "UPDATE audit_entries SET seq = seq + 1000 WHERE chain_id = :chain AND seq >= 3",
            "UPDATE audit_entries SET seq = seq - 999 WHERE chain_id = :chain AND seq >= 1000",
            "INSERT INTO audit_entries SELECT chain_id, 3, at, actor_kind, actor_ref, profession, organisation, mode,"
            " action, subject, allowed, reason, source, request_id, prev_hash, hash"
            " FROM audit_entries WHERE chain_id = :chain AND seq = 2",
        ],
        3,
        "inserted",
    ),
    "truncate": (["DELETE FROM audit_entries WHERE chain_id = :chain AND seq >= 3"], 3, "truncated"),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_carnet_audit_verify_catches_tampering(trail: Trail, kind: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(CARNET_DATABASE_URL=trail.url, CARNET_MASTER_KEY=trail.key)
    intact = carnet(env, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert "Audit trail intact: 2 chains, 8 entries checked." in intact.stdout
    statements, seq, word = TAMPERING[kind]
    tamper(trail, *statements)
    broken = carnet(env, "audit", "verify")
    assert broken.returncode == 1
    assert f"chain {trail.patients[0]}, entry {seq}:" in broken.stderr and word in broken.stderr, broken.stderr
    assert str(trail.patients[1]) not in broken.stderr  # the other patient's chain is intact
    assert "1 of 2 chains are broken" in broken.stderr
    assert carnet(env, "audit", "verify", "--patient", trail.ins[1]).returncode == 0
    assert carnet(env, "audit", "verify", "--patient", trail.ins[0]).returncode == 1
    assert carnet(env, "audit", "verify", "--record", str(trail.patients[0])).returncode == 1
    assert carnet(env, "audit", "verify", "--record", str(trail.patients[1])).returncode == 0


def test_a_destroyed_records_trail_is_verified_by_its_id_for_it_keeps_no_ins(trail: Trail) -> None:
    patient_id = trail.patients[1]
    sessions, keys = make_sessionmaker(trail.app), parse_master_keys(trail.key, source="test")
    with unit_of_work(sessions, keys, max_document_bytes=1) as ctx:
        request_destruction(ctx, Actor.patient(patient_id), patient_id)
        destroy_record(ctx, Actor.system("destruction"), patient_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(CARNET_DATABASE_URL=trail.url, CARNET_MASTER_KEY=trail.key)
    by_ins = carnet(env, "audit", "verify", "--patient", trail.ins[1])
    assert by_ins.returncode == 1 and "--record" in by_ins.stderr and "Traceback" not in by_ins.stderr
    by_id = carnet(env, "audit", "verify", "--record", str(patient_id))
    assert by_id.returncode == 0 and "1 chains" in by_id.stdout, by_id.stderr
    unknown = carnet(env, "audit", "verify", "--record", str(uuid.uuid4()))
    assert unknown.returncode == 1 and "No trail" in unknown.stderr


HEAD_TAMPERING = [
    "DELETE FROM audit_heads WHERE chain_id = :chain",
    "UPDATE audit_heads SET seq = seq - 1 WHERE chain_id = :chain",
    "UPDATE audit_heads SET hash = '\\x00' WHERE chain_id = :chain",
    "UPDATE audit_heads SET sealed_seq = seq + 1 WHERE chain_id = :chain",
    "TRUNCATE audit_heads",
]


@pytest.mark.parametrize("statement", HEAD_TAMPERING)
def test_a_head_only_moves_forward_by_appending(trail: Trail, statement: str) -> None:
    """The application's role cannot rewind, rewrite or remove a head; the database's owner neither, without
    switching the triggers off; and the record's next audited request still works."""
    chain = trail.patients[0]
    refusal = "audit head" if "sealed_seq" in statement else "permission denied"  # the sealer moves its bookmark
    with trail.app.connect() as connection, pytest.raises(DBAPIError, match=refusal):
        connection.execute(text(statement), {"chain": chain})
    with trail.owner.connect() as connection, pytest.raises(DBAPIError, match="audit head"):
        connection.execute(text(statement), {"chain": chain})
    with trail.app.connect() as connection, pytest.raises(DBAPIError, match="at least one"):
        connection.execute(text("SELECT * FROM audit_reserve(:chain, -3, now())"), {"chain": chain})
    sessions, keys = make_sessionmaker(trail.app), parse_master_keys(trail.key, source="test")
    with unit_of_work(sessions, keys, max_document_bytes=1) as ctx:
        list_documents(ctx, DOCTOR, chain, DocumentQuery())
    assert [seq for seq, *_ in entries(trail.owner, chain)] == [1, 2, 3, 4, 5]
    with trail.owner.connect() as connection:
        head = connection.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.chain_id == chain)).one()
        last = connection.scalar(select(AuditEntry.hash).where(AuditEntry.chain_id == chain, AuditEntry.seq == 5))
    assert (head.seq, bytes(head.hash)) == (5, bytes(last or b""))


def test_a_rewritten_head_is_caught(trail: Trail) -> None:
    tamper(trail, "UPDATE audit_heads SET hash = '\\x00' WHERE chain_id = :chain")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(CARNET_DATABASE_URL=trail.url, CARNET_MASTER_KEY=trail.key)
    broken = carnet(env, "audit", "verify")
    assert broken.returncode == 1 and "does not end where its head says" in broken.stderr


def test_carnet_audit_export_writes_csv_and_refuses_a_backward_period(trail: Trail, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env.update(CARNET_DATABASE_URL=trail.url, CARNET_MASTER_KEY=trail.key)
    today = date.today()  # noqa: DTZ011 - a calendar day for the command line
    period = ["--since", (today - timedelta(days=1)).isoformat(), "--until", (today + timedelta(days=1)).isoformat()]
    target = tmp_path / "doctor.csv"
    done = carnet(env, "audit", "export", "--professional", DOCTOR.ref, *period, "--output", str(target))
    assert done.returncode == 0 and "2 entries exported." in done.stderr
    rows = target.read_text().splitlines()
    assert rows[0].startswith("at,patient_id,seq,action") and len(rows) == 3
    backward = carnet(
        env, "audit", "export", "--professional", DOCTOR.ref, "--since", "2026-02-01", "--until", "2026-01-01"
    )
    assert backward.returncode == 1 and "--until must come after --since" in backward.stderr
    bad_rpps = carnet(env, "audit", "export", "--professional", "123", *period)
    assert bad_rpps.returncode == 1 and "RPPS" in bad_rpps.stderr and "Traceback" not in bad_rpps.stderr
