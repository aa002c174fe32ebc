"""Reimbursement history: the insurer's feed adds lines; readers see the last 24 months, as the matrix allows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.policy import REIMBURSEMENT_CLASS, Action, ItemFacts
from carnet.context import Context
from carnet.feeds import repository
from carnet.feeds.models import Reimbursement
from carnet.feeds.schemas import LineDetails, ReimbursementLine, ReimbursementView
from carnet.kit import clock
from carnet.kit.crypto import DataKey
from carnet.kit.errors import NotFound
from carnet.records.keys import data_key
from carnet.records.service import load_record

HISTORY_WINDOW = timedelta(days=731)  # 24 months
LINE = ItemFacts(class_code=REIMBURSEMENT_CLASS)


def _aad(line_id: uuid.UUID) -> str:
    return f"reimbursements.details:{line_id}"


def _since() -> date:
    return clock.today() - HISTORY_WINDOW


def add_reimbursements(ctx: Context, actor: Actor, patient_id: uuid.UUID, lines: Sequence[ReimbursementLine]) -> int:
    """Store the insurer's lines (older than 24 months are skipped; a line sent again is stored once)."""
    load_record(ctx, actor, Action.REIMBURSEMENT_FEED, patient_id, subject=f"lines:{len(lines)}")
    key, now, since = data_key(ctx, patient_id), clock.now(), _since()
    rows = []
    for item in lines:
        if item.service_date < since:
            continue
        line_id = uuid.uuid4()
        details = LineDetails(label=item.label, prescriber=item.prescriber, dispenser=item.dispenser)
        rows.append(
            {
                "patient_id": patient_id,
                "id": line_id,
                "claim_ref": item.claim_ref,
                "service_date": item.service_date,
                "code_system": item.code_system,
                "code": item.code,
                "details_ct": key.encrypt_text(details.model_dump_json(), aad=_aad(line_id)),
                "amount_cents": item.amount_cents,
                "reimbursed_cents": item.reimbursed_cents,
                "received_at": now,
            }
        )
    return repository.add_lines(ctx.session, rows)


def _view(key: DataKey, row: Reimbursement) -> ReimbursementView:
    details = LineDetails.model_validate_json(key.decrypt_text(row.details_ct, aad=_aad(row.id)))
    return ReimbursementView(
        id=row.id,
        patient_id=row.patient_id,
        claim_ref=row.claim_ref,
        service_date=row.service_date,
        code_system=row.code_system,
        code=row.code,
        label=details.label,
        amount_cents=row.amount_cents,
        reimbursed_cents=row.reimbursed_cents,
        prescriber=details.prescriber,
        dispenser=details.dispenser,
        received_at=row.received_at,
    )


def list_reimbursements(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> list[ReimbursementView]:
    """The lines of the last 24 months, newest first; none for a profession the matrix keeps from class 60."""
    _, access = load_record(ctx, actor, Action.REIMBURSEMENT_READ, patient_id)
    if not gate.visible(access, Action.REIMBURSEMENT_READ, LINE):
        return []
    rows = repository.lines(ctx.session, patient_id, _since())
    if not rows:
        return []
    key = data_key(ctx, patient_id)
    return [_view(key, row) for row in rows]


def get_reimbursement(ctx: Context, actor: Actor, patient_id: uuid.UUID, line_id: uuid.UUID) -> ReimbursementView:
    subject = f"reimbursement:{line_id}"
    _, access = load_record(ctx, actor, Action.REIMBURSEMENT_READ, patient_id, subject=subject, item_follows=True)
    row = repository.line(ctx.session, patient_id, line_id, _since())
    if row is None:
        gate.record_missing(ctx, access, Action.REIMBURSEMENT_READ, subject)
        raise NotFound(gate.NO_SUCH_ITEM)
    gate.authorize_item(ctx, access, Action.REIMBURSEMENT_READ, LINE, subject)
    return _view(data_key(ctx, patient_id), row)


def prune_reimbursements(ctx: Context, actor: Actor, *, limit: int = 1000) -> tuple[int, int]:
    """Remove up to `limit` lines older than the 24 months a record keeps (by date of care), on open and closed
    records; each record this batch touches is audited once. Returns (lines removed, records touched); (0, 0)
    when none is left."""
    found = repository.stale_lines(ctx.session, _since(), limit)
    records = sorted({patient_id for patient_id, _ in found})
    for patient_id in records:
        load_record(ctx, actor, Action.REIMBURSEMENT_PRUNE, patient_id, subject=f"before:{_since().isoformat()}")
    return repository.delete_lines(ctx.session, found), len(records)
