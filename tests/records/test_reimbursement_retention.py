"""The retention job: reimbursement lines older than the 24 months a record keeps are removed, on open and closed
records, a batch at a time, each record a batch touches audited once; a rerun finds nothing more."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.feeds.models import Reimbursement
from carnet.feeds.schemas import ReimbursementLine
from carnet.feeds.service import HISTORY_WINDOW, add_reimbursements, prune_reimbursements
from carnet.kit import clock
from carnet.records.service import close_record
from tests.factories import SYSTEM, open_test_record

JOB = Actor.system("retention")


def _line(claim: str, days_ago: int) -> ReimbursementLine:
    return ReimbursementLine(
        claim_ref=claim,
        service_date=clock.today() - timedelta(days=days_ago),
        code_system="NGAP",
        code="G",
        label="Consultation",
        amount_cents=3000,
        reimbursed_cents=2100,
    )


def _claims(ctx: Context, patient_id: uuid.UUID) -> set[str]:
    rows = ctx.session.scalars(select(Reimbursement.claim_ref).where(Reimbursement.patient_id == patient_id))
    return set(rows)


def test_lines_past_24_months_go_on_open_and_closed_records_and_a_rerun_removes_nothing(ctx: Context) -> None:
    while prune_reimbursements(ctx, JOB)[0]:  # lines other tests left to age are not this test's
        pass
    open_id, closed_id = open_test_record(ctx), open_test_record(ctx)
    old = HISTORY_WINDOW.days + 30
    aged, closed_aged = [_line("OLD-1", old), _line("OLD-2", old + 1)], [_line("OLD-3", old)]
    with clock.pinned_at(clock.now() - timedelta(days=400)):  # stored while they were recent
        add_reimbursements(ctx, SYSTEM, open_id, aged)
        add_reimbursements(ctx, SYSTEM, closed_id, closed_aged)
    add_reimbursements(ctx, SYSTEM, open_id, [_line("NEW-1", 10), _line("EDGE", HISTORY_WINDOW.days - 1)])
    close_record(ctx, Actor.patient(closed_id), closed_id)
    before = len(ctx.audit)
    assert prune_reimbursements(ctx, JOB, limit=2)[0] == 2  # a batch of two of the three old lines
    assert prune_reimbursements(ctx, JOB, limit=2) == (1, 1)  # then the last one
    assert prune_reimbursements(ctx, JOB, limit=2) == (0, 0)
    assert _claims(ctx, open_id) == {"NEW-1", "EDGE"} and _claims(ctx, closed_id) == set()
    traced = [(e.chain_id, e.action, e.allowed) for e in ctx.audit[before:]]
    # Each batch audits each record it touches once: two batches, so a record is in the trail once or twice.
    assert set(traced) == {(open_id, "reimbursement.prune", True), (closed_id, "reimbursement.prune", True)}
    assert len(traced) <= 3
