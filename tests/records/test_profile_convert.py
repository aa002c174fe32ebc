"""Entries stored before issue 19 read as they always did, and `convert` stores that very resource, once."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.records.keys import shred_data_key
from carnet.records.models import ProfileEntry
from carnet.records.profile import list_profile
from carnet.records.profile_convert import convert_entries, entries_to_convert
from tests.factories import open_test_record
from tests.records.legacy import legacy_entry
from tests.records.test_profile import ONE_OF_EACH


def _resources(ctx: Context, actor: Actor) -> dict[str, dict[str, Any]]:
    patient_id = uuid.UUID(actor.ref)
    return {str(e.id): e.resource for e in list_profile(ctx, actor, patient_id, include_retired=True)}


def test_old_entries_read_the_same_before_and_after_conversion_which_resumes_and_ends(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    for payload in ONE_OF_EACH:
        legacy_entry(ctx, patient_id, payload)
    legacy_entry(ctx, patient_id, {"kind": "treatment", "medication": "Statine"}, status="retired")
    gone = open_test_record(ctx)
    legacy_entry(ctx, gone, {"kind": "blood_group", "group": "A+"})
    shred_data_key(ctx, gone)  # a destroyed record: nothing to decrypt, left as it is

    before = _resources(ctx, patient)
    assert len(before) == len(ONE_OF_EACH) + 1
    assert entries_to_convert(ctx) == len(before)
    converted = [convert_entries(ctx, limit=5) for _ in range(5)]
    assert converted == [5, 5, 5, 2, 0]  # an interrupted run resumes: each batch takes what is left

    assert entries_to_convert(ctx) == 0
    assert _resources(ctx, patient) == before
    rows = list(ctx.session.scalars(select(ProfileEntry).where(ProfileEntry.patient_id == patient_id)))
    assert all(r.payload_ct is None and r.resource_ct is not None and r.resource_type for r in rows)
    retired = next(r for r in rows if r.status == "retired")
    assert (retired.resource_type, retired.resource_status) == ("MedicationStatement", "stopped")
    (left,) = ctx.session.scalars(select(ProfileEntry).where(ProfileEntry.patient_id == gone))
    assert left.payload_ct is not None and left.resource_ct is None
