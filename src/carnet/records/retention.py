"""What remains of a destroyed record, removed: the job after the crypto-shredding.

Destruction (records.service.destroy_record) shreds the record's data key, so its ciphertext can no longer be
read; the rows stay until this job removes them: documents and their contents, profile entries, reimbursement
lines, access settings, notification settings and messages. The record's row stays too, without INS or
identity, and its audit trail is untouched: who accessed the record, and when, can still be proven. Each purge
passes the gate (`record.purge`, the one action a destroyed record allows, to a system job) and is audited.
"""

from __future__ import annotations

from carnet.access import repository as access_repository
from carnet.access.actor import Actor
from carnet.access.policy import Action
from carnet.context import Context
from carnet.feeds import repository as feeds_repository
from carnet.kit import clock
from carnet.notify.service import forget_record as forget_notifications
from carnet.records import repository
from carnet.records.service import load_record


def purge_destroyed_records(ctx: Context, actor: Actor, *, limit: int = 100) -> tuple[int, int]:
    """Remove the remains of up to `limit` destroyed records; (records purged, rows removed), (0, 0) when none is
    left. A rerun finds nothing: each purged record is marked."""
    purged = rows = 0
    for patient_id in repository.records_to_purge(ctx.session, limit=limit):
        record, _ = load_record(ctx, actor, Action.RECORD_PURGE, patient_id)
        rows += repository.forget_contents(ctx.session, patient_id)
        rows += feeds_repository.forget_lines(ctx.session, patient_id)
        rows += access_repository.forget_settings(ctx.session, patient_id)
        rows += forget_notifications(ctx.session, patient_id)
        record.purged_at = clock.now()
        purged += 1
    return purged, rows
