"""The purge job: what remains of a destroyed record (documents, contents, profile, reimbursements, access and
notification settings) is removed, its row stays (the audit trail is out of reach: the application's database role
may not delete it), a living record is never touched, and a rerun
finds nothing more."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from carnet.access.actor import Actor
from carnet.access.models import Authorisation, Representative
from carnet.access.service import authorise, link_representative
from carnet.context import Context
from carnet.feeds.models import Reimbursement
from carnet.feeds.schemas import ReimbursementLine
from carnet.feeds.service import add_reimbursements
from carnet.kit import clock
from carnet.records.documents import deposit_document
from carnet.records.models import Document, DocumentContent, DocumentVersion, Record
from carnet.records.retention import purge_destroyed_records
from carnet.records.service import destroy_record, request_destruction
from tests.factories import IDENTITY, PDF, SYSTEM, document_meta, open_test_record, rpps

JOB = Actor.system("retention")
STORED = (Document, DocumentVersion, DocumentContent, Reimbursement, Authorisation)


def _rows(ctx: Context, patient_id: uuid.UUID) -> dict[str, int]:
    counted = {
        m.__tablename__: ctx.session.scalar(select(func.count()).where(m.patient_id == patient_id)) or 0 for m in STORED
    }
    either = (Representative.patient_id == patient_id) | (Representative.representative_id == patient_id)
    counted["representatives"] = ctx.session.scalar(select(func.count()).select_from(Representative).where(either)) or 0
    return counted


def _filled(ctx: Context) -> uuid.UUID:
    patient_id = open_test_record(ctx)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    line = ReimbursementLine(
        claim_ref=f"CL-{uuid.uuid4().hex[:8]}",
        service_date=clock.today(),
        code_system="NGAP",
        code="G",
        label="Consultation",
        amount_cents=3000,
        reimbursed_cents=2100,
    )
    add_reimbursements(ctx, SYSTEM, patient_id, [line])
    authorise(ctx, Actor.patient(patient_id), patient_id, rpps(71))
    return patient_id


def test_a_destroyed_records_remains_go_and_its_trail_stays(ctx: Context) -> None:
    while purge_destroyed_records(ctx, JOB)[0]:  # records other tests destroyed are not this test's
        pass
    doomed, living = _filled(ctx), _filled(ctx)
    child = open_test_record(
        ctx, identity=IDENTITY.model_copy(update={"birth_date": date(clock.today().year - 5, 1, 2)})
    )
    link_representative(ctx, SYSTEM, child, doomed)
    request_destruction(ctx, Actor.patient(doomed), doomed)
    destroy_record(ctx, Actor.system("destruction"), doomed)
    assert all(_rows(ctx, doomed).values()) and all(n for t, n in _rows(ctx, living).items() if t != "representatives")
    before = len(ctx.audit)

    purged, removed = purge_destroyed_records(ctx, JOB)
    assert purged == 1 and removed >= 6
    assert not any(_rows(ctx, doomed).values())
    assert all(n for t, n in _rows(ctx, living).items() if t != "representatives")  # a living record is untouched
    record = ctx.session.get(Record, doomed)
    assert record is not None and record.state == "destroyed" and record.purged_at is not None
    assert [(e.chain_id, e.action, e.allowed) for e in ctx.audit[before:]] == [(doomed, "record.purge", True)]
    assert purge_destroyed_records(ctx, JOB) == (0, 0)
