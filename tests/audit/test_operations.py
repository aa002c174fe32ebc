"""The trail as operators with the audit role read it: verification timed with the last seal, one professional's
accesses as CSV, each reading traced, and refusals for another role, a bad RPPS or a backward period."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, timedelta

import pytest
from sqlalchemy import select

from carnet.access.actor import Actor
from carnet.audit.models import AuditEntry
from carnet.audit.operations import last_seal, period_bounds, professional_accesses, trail_status
from carnet.audit.seal import seal
from carnet.identity.operators import OperatorView
from carnet.kit import clock
from carnet.kit.crypto import SealingKey, generate_master_key_text, parse_master_keys
from carnet.kit.db import make_sessionmaker
from carnet.kit.errors import Forbidden, Invalid
from carnet.runtime import unit_of_work
from tests.audit.conftest import DOCTOR, Trail
from tests.audit.test_trail import tamper
from tests.factories import document_meta

AUDITOR = OperatorView(uuid.uuid4(), "auditor", ["audit"])
COUNTER = OperatorView(uuid.uuid4(), "counter", ["statistics"])
ACTOR = Actor.operator(AUDITOR.id)


def _unit(trail: Trail):  # type: ignore[no-untyped-def]
    return unit_of_work(make_sessionmaker(trail.app), parse_master_keys(trail.key, source="test"), max_document_bytes=1)


def test_the_status_verifies_every_chain_and_names_the_last_seal(trail: Trail) -> None:
    key = SealingKey.from_text(generate_master_key_text(), source="test")
    with _unit(trail) as ctx:
        assert last_seal(ctx, AUDITOR)[0] is None
        sealed = seal(ctx.session, key)
    assert sealed is not None
    with _unit(trail) as ctx:
        status = trail_status(ctx, ACTOR, AUDITOR, key.public())
    assert status.intact and status.signatures_checked and status.breaks == []
    assert (status.chains, status.entries) == (2, 8) and status.seconds > 0
    assert status.last_seal is not None and status.last_seal.leaves == 2 and status.last_seal.key_id == key.key_id
    assert status.sealed_entries == 8 and status.written_entries >= 8
    with _unit(trail) as ctx:  # the verification itself was traced, in the chain of no record
        traced = ctx.session.scalars(select(AuditEntry).where(AuditEntry.subject == "trail:verify")).one()
    assert (traced.actor_kind, traced.actor_ref, traced.allowed) == ("operator", str(AUDITOR.id), True)

    tamper(trail, "UPDATE audit_entries SET allowed = false WHERE chain_id = :chain AND seq = 2")
    with _unit(trail) as ctx:
        broken = trail_status(ctx, ACTOR, AUDITOR, key.public())
    assert not broken.intact
    assert [(b.chain_id, b.seq) for b in broken.breaks] == [(trail.patients[0], 2)]
    assert "edited" in broken.breaks[0].problem


def test_another_role_is_refused_before_anything_is_read(trail: Trail) -> None:
    with _unit(trail) as ctx, pytest.raises(Forbidden) as refused:
        trail_status(ctx, Actor.operator(COUNTER.id), COUNTER, None)
    assert refused.value.message == "Your account does not have the audit role."
    with _unit(trail) as ctx, pytest.raises(Forbidden):
        professional_accesses(ctx, Actor.operator(COUNTER.id), COUNTER, DOCTOR.ref, clock.today(), clock.today())


def test_one_professionals_accesses_as_csv_with_identifiers_and_codes_only(trail: Trail) -> None:
    today = clock.today()
    with _unit(trail) as ctx:
        text, count = professional_accesses(ctx, ACTOR, AUDITOR, DOCTOR.ref, today - timedelta(days=1), today)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == len(rows) == 2  # the doctor listed each patient's documents once
    assert {row["patient_id"] for row in rows} == {str(p) for p in trail.patients}
    assert {row["action"] for row in rows} == {"document.list"}
    assert all(row["allowed"] == "yes" and row["mode"] == "normal" for row in rows)
    assert document_meta().title not in text
    with _unit(trail) as ctx:
        assert ctx.session.scalars(select(AuditEntry).where(AuditEntry.subject == f"professional:{DOCTOR.ref}")).one()
    with _unit(trail) as ctx:
        none, _ = professional_accesses(
            ctx, ACTOR, AUDITOR, DOCTOR.ref, today - timedelta(days=9), today - timedelta(days=2)
        )
    assert none.count("\n") == 1  # the header alone


def test_a_bad_rpps_or_a_backward_period_is_refused_with_its_code(trail: Trail) -> None:
    today = clock.today()
    bad_luhn = DOCTOR.ref[:-1] + str((int(DOCTOR.ref[-1]) + 1) % 10)
    for number in (bad_luhn, "1234"):
        with _unit(trail) as ctx, pytest.raises(Invalid) as refused:
            professional_accesses(ctx, ACTOR, AUDITOR, number, today, today)
        assert refused.value.code == "invalid-rpps"
    with pytest.raises(Invalid) as backward:
        period_bounds(date(2026, 2, 1), date(2026, 1, 31))
    assert backward.value.code == "invalid-period" and backward.value.message == "The period ends before it starts."
    with pytest.raises(Invalid) as long:
        period_bounds(date(2025, 1, 1), date(2026, 6, 1))
    assert long.value.code == "period-too-long"
    start, end = period_bounds(date(2026, 3, 29), date(2026, 3, 29))  # the day summer time starts in France
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23) and start.utcoffset() == timedelta(
        hours=1
    )
