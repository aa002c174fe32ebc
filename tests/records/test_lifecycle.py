from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import StaticKeyProvider
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.kit.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from carnet.kit.validation import validate_model
from carnet.records import repository
from carnet.records.codes import Channel
from carnet.records.documents import deposit_document, list_documents
from carnet.records.models import Record, RecordKey
from carnet.records.schemas import DocumentQuery, PatientIdentity
from carnet.records.service import (
    cancel_destruction,
    close_record,
    destroy_due_records,
    destroy_record,
    open_record,
    record_summary,
    reopen_record,
    request_destruction,
)
from carnet.runtime import unit_of_work
from tests.factories import IDENTITY, PDF, SYSTEM, document_meta, finess, new_ins, open_test_record, rpps


def living_id(ctx: Context, ins: str) -> uuid.UUID | None:
    record = repository.living_record_for_ins(ctx.session, ins)
    return record.patient_id if record is not None else None


def test_opening_records_channel_opener_and_place(ctx: Context) -> None:
    ins = new_ins()
    patient_id = open_record(
        ctx, SYSTEM, ins=ins[:1] + " " + ins[1:], identity=IDENTITY, channel=Channel.PHARMACY, opened_by=finess(3)
    )
    summary = record_summary(ctx, Actor.patient(patient_id), patient_id)
    assert summary.ins == ins
    assert (summary.state, summary.channel, summary.opened_by) == ("open", "pharmacy", finess(3))
    assert (summary.departement, summary.region) == ("44", "52")
    assert summary.identity == IDENTITY
    assert living_id(ctx, ins) == patient_id


@pytest.mark.parametrize(
    ("channel", "opener", "stored"),
    [
        (Channel.PROFESSIONAL, rpps(7), rpps(7)),
        (Channel.HOSPITAL, finess(9), finess(9)),
        (Channel.INSURANCE_DESK, "CPAM0042", "CPAM0042"),
        (Channel.ONLINE, "", "patient"),
    ],
)
def test_each_channel_records_its_opener(ctx: Context, channel: Channel, opener: str, stored: str) -> None:
    patient_id = open_record(ctx, SYSTEM, ins=new_ins(), identity=IDENTITY, channel=channel, opened_by=opener)
    assert record_summary(ctx, Actor.patient(patient_id), patient_id).opened_by == stored


@pytest.mark.parametrize(
    ("channel", "opener", "fragment"),
    [
        (Channel.PHARMACY, "123", "FINESS"),
        (Channel.PROFESSIONAL, "12345678901", "RPPS"),
        (Channel.INSURANCE_DESK, "a b", "staff id"),
    ],
)
def test_bad_opener_is_refused(ctx: Context, channel: Channel, opener: str, fragment: str) -> None:
    ins = new_ins()
    with pytest.raises(Invalid, match=fragment):
        open_record(ctx, SYSTEM, ins=ins, identity=IDENTITY, channel=channel, opened_by=opener)
    assert living_id(ctx, ins) is None


def test_invalid_ins_is_refused_and_nothing_is_stored(ctx: Context) -> None:
    before = ctx.session.scalar(select(Record.patient_id).limit(1))
    with pytest.raises(Invalid, match="INS key"):
        open_record(ctx, SYSTEM, ins="285037512345600", identity=IDENTITY, channel=Channel.ONLINE, opened_by="")
    assert ctx.session.scalar(select(Record.patient_id).limit(1)) == before


def test_invalid_postcode_is_refused_with_the_field_named() -> None:
    with pytest.raises(Invalid, match="postcode: The postcode 99999 is not in a French département"):
        validate_model(PatientIdentity, {**IDENTITY.model_dump(), "postcode": "99999"})


def test_a_second_opening_for_the_same_ins_is_refused(ctx: Context) -> None:
    ins = new_ins()
    first = open_test_record(ctx, ins=ins)
    with pytest.raises(Conflict, match="already open"):
        open_test_record(ctx, ins=ins)
    assert living_id(ctx, ins) == first


def test_only_system_jobs_open_records_for_now(ctx: Context) -> None:
    professional = Actor.professional(rpps(), "10")
    with pytest.raises(Forbidden):
        open_record(ctx, professional, ins=new_ins(), identity=IDENTITY, channel=Channel.PROFESSIONAL, opened_by=rpps())


def test_close_then_reopen(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    close_record(ctx, patient, patient_id)
    summary = record_summary(ctx, patient, patient_id)
    assert summary.state == "closed" and summary.closed_at is not None
    with pytest.raises(Conflict, match="closed"):
        deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    reopen_record(ctx, patient, patient_id)
    assert record_summary(ctx, patient, patient_id).state == "open"
    deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)


def test_another_patient_cannot_read_or_close_a_record(ctx: Context) -> None:
    mine, theirs = open_test_record(ctx), open_test_record(ctx)
    intruder = Actor.patient(theirs)
    with pytest.raises(NotFound):
        record_summary(ctx, intruder, mine)
    with pytest.raises(NotFound):
        close_record(ctx, intruder, mine)
    with pytest.raises(NotFound):
        record_summary(ctx, intruder, uuid.uuid4())


def test_system_jobs_do_not_read_records(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    with pytest.raises(Forbidden):
        record_summary(ctx, SYSTEM, patient_id)
    with pytest.raises(Forbidden):
        list_documents(ctx, SYSTEM, patient_id, DocumentQuery())


def test_destruction_needs_a_request_or_ten_years(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    close_record(ctx, Actor.patient(patient_id), patient_id)
    with pytest.raises(Invalid, match="ten years"):
        destroy_record(ctx, Actor.system("destruction"), patient_id)
    record = ctx.session.get(Record, patient_id)
    assert record is not None
    record.closed_at = clock.now() - timedelta(days=11 * 366)
    assert destroy_due_records(ctx, Actor.system("destruction"), cooling_off=timedelta(days=30)) >= 1
    assert record.state == "destroyed"


def test_requested_destruction_shreds_the_record(ctx: Context) -> None:
    ins = new_ins()
    patient_id = open_test_record(ctx, ins=ins)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    patient = Actor.patient(patient_id)
    with pytest.raises(Forbidden):
        destroy_record(ctx, patient, patient_id)  # patients ask; the destruction job carries it out
    request_destruction(ctx, patient, patient_id)
    assert record_summary(ctx, patient, patient_id).state == "closed"
    destroy_record(ctx, Actor.system("destruction"), patient_id)

    assert ctx.session.get(RecordKey, patient_id) is None
    # Nothing in the row names the patient any more: no INS, no identity.
    ctx.session.flush()
    row = ctx.session.execute(text("SELECT r::text FROM records r WHERE patient_id = :p"), {"p": patient_id}).scalar()
    assert row is not None and ins not in row and ins[:13] not in row
    assert repository.living_record_for_ins(ctx.session, ins) is None
    with pytest.raises(Gone):
        record_summary(ctx, patient, patient_id)
    with pytest.raises(Gone):
        list_documents(ctx, patient, patient_id, DocumentQuery())
    with pytest.raises(NotFound):
        record_summary(ctx, Actor.patient(uuid.uuid4()), patient_id)
    # The person may open a new record; the destroyed one stays destroyed.
    assert open_test_record(ctx, ins=ins) != patient_id


def test_reopening_cancels_a_destruction_request(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    request_destruction(ctx, patient, patient_id)
    reopen_record(ctx, patient, patient_id)
    summary = record_summary(ctx, patient, patient_id)
    assert summary.state == "open" and summary.destruction_requested_at is None
    with pytest.raises(Forbidden):
        destroy_record(ctx, Actor.system("destruction"), patient_id)  # open records are never destroyed


def test_identity_fields_are_checked_each_with_its_name() -> None:
    bad = {"family_name": "", "given_names": "A", "birth_date": "2099-01-01", "sex": "X", "postcode": "44000"}
    with pytest.raises(Invalid) as caught:
        validate_model(PatientIdentity, bad)
    for field in ("family_name", "birth_date: must not be in the future", "sex"):
        assert field in caught.value.message


def test_depositing_into_a_destroyed_record_is_refused(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    request_destruction(ctx, Actor.patient(patient_id), patient_id)
    destroy_record(ctx, Actor.system("destruction"), patient_id)
    with pytest.raises(Gone):
        deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    with pytest.raises(Gone):
        reopen_record(ctx, Actor.patient(patient_id), patient_id)


def test_two_simultaneous_openings_of_one_patient_make_one_record(
    fresh_database: Callable[[], str], keys: StaticKeyProvider
) -> None:
    """Both pass the "already open?" check; the database's unique index turns the second into a Conflict."""
    engine = make_engine(fresh_database())
    sessions = make_sessionmaker(engine)
    ins = new_ins()
    first_flushed, outcome = threading.Event(), []

    def second_opening() -> None:
        first_flushed.wait(10)
        try:
            with unit_of_work(sessions, keys, max_document_bytes=1024) as ctx:
                open_test_record(ctx, ins=ins)
            outcome.append("opened")
        except Conflict:
            outcome.append("conflict")

    worker = threading.Thread(target=second_opening)
    worker.start()
    try:
        with unit_of_work(sessions, keys, max_document_bytes=1024) as ctx:
            open_test_record(ctx, ins=ins)
            first_flushed.set()
            time.sleep(0.5)  # the second opening now waits on the unique index for this transaction
        worker.join(20)
        assert outcome == ["conflict"]
    finally:
        engine.dispose()


def test_a_requested_destruction_waits_its_cooling_off_and_can_be_cancelled(ctx: Context) -> None:
    thirty, job = timedelta(days=30), Actor.system("destruction")
    asked, changed_mind = open_test_record(ctx), open_test_record(ctx)
    for patient_id in (asked, changed_mind):
        request_destruction(ctx, Actor.patient(patient_id), patient_id)

    def due(at: datetime) -> list[uuid.UUID]:
        found = repository.records_due_for_destruction(
            ctx.session, closed_before=at - timedelta(days=3653), requested_before=at - thirty, limit=100_000
        )
        return [p for p in found if p in (asked, changed_mind)]

    assert due(clock.now()) == []
    with pytest.raises(Invalid, match="may still cancel"):
        destroy_record(ctx, job, asked, cooling_off=thirty)
    cancel_destruction(ctx, Actor.patient(changed_mind), changed_mind)
    with pytest.raises(Conflict):
        cancel_destruction(ctx, Actor.patient(changed_mind), changed_mind)
    later = clock.now() + thirty + timedelta(minutes=1)
    assert due(later) == [asked]
    with clock.pinned_at(later):
        destroy_record(ctx, job, asked, cooling_off=thirty)
    assert record_state(ctx, asked) == "destroyed" and record_state(ctx, changed_mind) == "closed"


def record_state(ctx: Context, patient_id: uuid.UUID) -> str:
    record = ctx.session.get(Record, patient_id)
    assert record is not None
    return record.state
