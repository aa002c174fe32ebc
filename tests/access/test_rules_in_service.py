"""Each access rule, through the services, on real PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import update

from carnet.access.actor import Actor, Mode
from carnet.access.models import Authorisation, EmergencyEpisode, Representative
from carnet.access.service import (
    authorise,
    block,
    change_matrix,
    declare_emergency,
    link_representative,
    read_settings,
    revoke,
    set_opt_outs,
    set_regular_doctor,
    unblock,
)
from carnet.context import Context
from carnet.identity.directory import set_entry
from carnet.kit import clock
from carnet.kit.errors import Conflict, Forbidden, Invalid, NotFound
from carnet.portal.messages import SERVICE_MESSAGES
from carnet.records.documents import (
    deposit_document,
    get_document,
    list_documents,
    read_content,
    set_author_flags,
    set_masked,
    withdraw_document,
)
from carnet.records.profile import add_profile_entry, list_profile
from carnet.records.schemas import DocumentQuery, PatientIdentity
from carnet.records.service import close_record, record_summary
from tests.factories import IDENTITY, PDF, SYSTEM, document_meta, open_test_record, rpps

DOCTOR = Actor.professional(rpps(1), "10")
PHARMACIST = Actor.professional(rpps(2), "21")
NURSE = Actor.professional(rpps(3), "60")
PODIATRIST = Actor.professional(rpps(4), "80")


def as_mode(actor: Actor, mode: Mode) -> Actor:
    return Actor.professional(actor.ref, actor.profession or "", actor.organisation, mode=mode)


def ids(ctx: Context, actor: Actor, patient_id: uuid.UUID, **query: object) -> set[uuid.UUID]:
    return {d.id for d in list_documents(ctx, actor, patient_id, DocumentQuery.model_validate(query)).items}


def deposit(ctx: Context, patient_id: uuid.UUID, class_code: str = "10", **meta: object) -> uuid.UUID:
    return deposit_document(ctx, SYSTEM, patient_id, document_meta(class_code=class_code, **meta), PDF)


def hide_from_patient(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, document_id: uuid.UUID, until: datetime | None
) -> None:
    set_author_flags(
        ctx, actor, patient_id, document_id, hidden_from_patient_until=until, hidden_from_representatives=False
    )


@pytest.fixture
def patient_id(ctx: Context) -> uuid.UUID:
    return open_test_record(ctx)


def test_authorisation_lets_a_professional_read_and_revocation_applies_to_the_next_call(
    ctx: Context, patient_id: uuid.UUID
) -> None:
    document_id = deposit(ctx, patient_id)
    patient = Actor.patient(patient_id)
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    view = authorise(ctx, patient, patient_id, DOCTOR.ref)
    assert view.expires_at - view.granted_at == timedelta(days=365)
    assert ids(ctx, DOCTOR, patient_id) == {document_id}
    assert read_content(ctx, DOCTOR, patient_id, document_id)[1] == PDF
    assert record_summary(ctx, DOCTOR, patient_id).identity == IDENTITY
    revoke(ctx, patient, patient_id, DOCTOR.ref)
    with pytest.raises(Forbidden):
        get_document(ctx, DOCTOR, patient_id, document_id)
    assert read_settings(ctx, patient, patient_id).authorisations == []


def test_an_expired_authorisation_is_refused_and_renewal_restores_it(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    ctx.session.execute(
        update(Authorisation)
        .where(Authorisation.patient_id == patient_id)
        .values(expires_at=clock.now() - timedelta(seconds=1))
    )
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    renewed = authorise(ctx, patient, patient_id, DOCTOR.ref)
    assert renewed.expires_at > clock.now() + timedelta(days=364)
    list_documents(ctx, DOCTOR, patient_id, DocumentQuery())


def test_a_blocked_professional_is_refused_in_every_mode(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    emergency = as_mode(DOCTOR, Mode.EMERGENCY)
    declare_emergency(ctx, emergency, patient_id, "Patient inconscient aux urgences, besoin des antécédents")
    block(ctx, patient, patient_id, DOCTOR.ref)
    for actor in (DOCTOR, emergency, as_mode(DOCTOR, Mode.DEPOSIT_ONLY)):
        with pytest.raises(Forbidden, match="not authorised") as caught:
            list_documents(ctx, actor, patient_id, DocumentQuery())
        assert caught.value.code == "not-authorised"  # the block itself is not disclosed
    with pytest.raises(Forbidden):
        declare_emergency(ctx, emergency, patient_id, "Nouvel épisode, patient toujours inconscient")
    assert read_settings(ctx, patient, patient_id).blocked == [DOCTOR.ref]
    assert set(read_settings(ctx, patient, patient_id).blocked_since) == {DOCTOR.ref}
    unblock(ctx, patient, patient_id, DOCTOR.ref)
    with pytest.raises(Forbidden):  # blocking ended the authorisation; it must be given again
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    list_documents(ctx, DOCTOR, patient_id, DocumentQuery())


def test_the_regular_doctor_is_authorised_implicitly_and_sees_masked_documents(
    ctx: Context, patient_id: uuid.UUID
) -> None:
    patient = Actor.patient(patient_id)
    masked = deposit(ctx, patient_id)
    plain = deposit(ctx, patient_id)
    set_masked(ctx, patient, patient_id, masked, True)
    set_regular_doctor(ctx, patient, patient_id, DOCTOR.ref)
    assert ids(ctx, DOCTOR, patient_id) == {masked, plain}
    authorise(ctx, patient, patient_id, NURSE.ref)
    assert ids(ctx, NURSE, patient_id) == {plain}
    with pytest.raises(NotFound):
        get_document(ctx, NURSE, patient_id, masked)
    set_regular_doctor(ctx, patient, patient_id, None)
    with pytest.raises(Forbidden):
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())


def test_only_a_doctor_can_be_the_regular_doctor(ctx: Context, patient_id: uuid.UUID) -> None:
    """A nurse the directory knows is refused; a number it does not know stays allowed (the API's callers)."""
    patient = Actor.patient(patient_id)
    set_entry(ctx.session, operator="test", rpps=NURSE.ref, name="Inès Nurse", profession="60", email="n@example.org")
    with pytest.raises(Invalid, match="Only a doctor"):
        set_regular_doctor(ctx, patient, patient_id, NURSE.ref)
    assert read_settings(ctx, patient, patient_id).regular_doctor_rpps is None
    set_regular_doctor(ctx, patient, patient_id, DOCTOR.ref)
    assert read_settings(ctx, patient, patient_id).regular_doctor_rpps == DOCTOR.ref


def test_a_masked_document_stays_visible_to_its_author(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, NURSE.ref)
    own = deposit_document(ctx, NURSE, patient_id, document_meta(author=None), PDF)
    set_masked(ctx, patient, patient_id, own, True)
    assert own in ids(ctx, NURSE, patient_id)
    assert get_document(ctx, NURSE, patient_id, own).masked
    set_masked(ctx, patient, patient_id, own, False)
    authorise(ctx, patient, patient_id, PHARMACIST.ref)
    assert own in ids(ctx, PHARMACIST, patient_id)


def test_lists_never_include_or_count_hidden_items(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, PHARMACIST.ref)
    visible = [deposit(ctx, patient_id, "42", act_date=date(2026, 1, day)) for day in (1, 2, 3)]
    hidden = [deposit(ctx, patient_id, "31", act_date=date(2026, 1, day)) for day in (4, 5)]  # imaging: matrix
    masked = deposit(ctx, patient_id, "42", act_date=date(2026, 1, 6))
    set_masked(ctx, patient, patient_id, masked, True)
    pages, offset = [], 0
    while True:
        page = list_documents(ctx, PHARMACIST, patient_id, DocumentQuery(limit=2, offset=offset))
        pages.append([d.id for d in page.items])
        if page.next_offset is None:
            break
        offset = page.next_offset
    assert pages == [[visible[2], visible[1]], [visible[0]]]  # full pages, in order, nothing hidden counted
    assert not set(hidden) & {i for p in pages for i in p}
    answers = set()
    for document_id in (*hidden, masked, uuid.uuid4()):  # hidden and missing look the same
        with pytest.raises(NotFound) as caught:
            get_document(ctx, PHARMACIST, patient_id, document_id)
        answers.add((caught.value.status, caught.value.code, caught.value.message))
    assert len(answers) == 1
    assert ids(ctx, patient, patient_id) == {*visible, *hidden, masked}


def test_emergency_access_needs_a_justification_an_episode_and_no_opt_out(ctx: Context, patient_id: uuid.UUID) -> None:
    document_id = deposit(ctx, patient_id)
    masked = deposit(ctx, patient_id)
    patient = Actor.patient(patient_id)
    set_masked(ctx, patient, patient_id, masked, True)
    emergency = as_mode(NURSE, Mode.EMERGENCY)
    with pytest.raises(Forbidden, match="Declare the emergency access first"):
        list_documents(ctx, emergency, patient_id, DocumentQuery())
    with pytest.raises(Invalid, match="justification"):
        declare_emergency(ctx, emergency, patient_id, "urgent")
    with pytest.raises(Invalid, match="24 hours"):
        declare_emergency(ctx, emergency, patient_id, "Détresse respiratoire aiguë", duration=timedelta(hours=30))
    episode = declare_emergency(ctx, emergency, patient_id, "Détresse respiratoire aiguë, patient inconscient")
    assert episode.ends_at - episode.started_at == timedelta(hours=24)
    assert ids(ctx, emergency, patient_id) == {document_id}  # masked stays hidden in an emergency
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, NURSE, patient_id, DocumentQuery())  # the episode is for emergency mode only
    now = clock.now()
    ctx.session.execute(
        update(EmergencyEpisode)
        .where(EmergencyEpisode.id == episode.id)
        .values(started_at=now - timedelta(hours=25), ends_at=now - timedelta(hours=1))
    )
    with pytest.raises(Forbidden, match="Declare the emergency access first"):
        list_documents(ctx, emergency, patient_id, DocumentQuery())
    set_opt_outs(ctx, patient, patient_id, emergency=True)
    with pytest.raises(Forbidden, match="refused emergency access"):
        declare_emergency(ctx, emergency, patient_id, "Détresse respiratoire aiguë, patient inconscient")


def test_regulation_is_for_doctors_reads_only_and_separately_refusable(ctx: Context, patient_id: uuid.UUID) -> None:
    document_id = deposit(ctx, patient_id)
    regulator = as_mode(DOCTOR, Mode.REGULATION)
    with pytest.raises(Forbidden, match="Only a doctor"):
        declare_emergency(ctx, as_mode(NURSE, Mode.REGULATION), patient_id, "Appel au centre 15 pour malaise")
    declare_emergency(ctx, regulator, patient_id, "Appel au centre 15 pour douleur thoracique")
    assert ids(ctx, regulator, patient_id) == {document_id}
    with pytest.raises(Forbidden):
        deposit_document(ctx, regulator, patient_id, document_meta(author=None), PDF)
    patient = Actor.patient(patient_id)
    set_opt_outs(ctx, patient, patient_id, regulation=True)
    with pytest.raises(Forbidden, match="centre 15"):
        list_documents(ctx, regulator, patient_id, DocumentQuery())
    settings = read_settings(ctx, patient, patient_id)
    assert (settings.emergency_opt_out, settings.regulation_opt_out) == (False, True)


def test_deposit_only_authorisation_and_mode(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, NURSE.ref, scope="deposit")
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, NURSE, patient_id, DocumentQuery())
    own = deposit_document(ctx, NURSE, patient_id, document_meta(author=None), PDF)
    depositing = as_mode(NURSE, Mode.DEPOSIT_ONLY)
    deposit_document(ctx, depositing, patient_id, document_meta(author=None), PDF)
    withdraw_document(ctx, depositing, patient_id, own)
    with pytest.raises(Forbidden, match="deposit-only mode"):
        list_documents(ctx, depositing, patient_id, DocumentQuery())
    with pytest.raises(Invalid, match="read and deposit, or deposit only"):
        authorise(ctx, patient, patient_id, NURSE.ref, scope="everything")


def test_hidden_from_patient_until_explained_then_lifted(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    result = deposit_document(ctx, DOCTOR, patient_id, document_meta(author=None, class_code="11"), PDF)
    until = clock.now() + timedelta(days=30)
    with pytest.raises(Forbidden, match="author"):
        set_author_flags(
            ctx, NURSE, patient_id, result, hidden_from_patient_until=until, hidden_from_representatives=False
        )
    set_author_flags(
        ctx, DOCTOR, patient_id, result, hidden_from_patient_until=until, hidden_from_representatives=False
    )
    assert result not in ids(ctx, patient, patient_id)
    with pytest.raises(NotFound):
        get_document(ctx, patient, patient_id, result)
    with pytest.raises(NotFound):
        set_masked(ctx, patient, patient_id, result, True)
    assert get_document(ctx, DOCTOR, patient_id, result).hidden_from_patient_until == until  # readers are warned
    with pytest.raises(Invalid, match="within the coming year"):
        set_author_flags(
            ctx,
            DOCTOR,
            patient_id,
            result,
            hidden_from_patient_until=clock.now() + timedelta(days=400),
            hidden_from_representatives=False,
        )
    set_author_flags(ctx, DOCTOR, patient_id, result, hidden_from_patient_until=None, hidden_from_representatives=False)
    assert result in ids(ctx, patient, patient_id)
    set_masked(ctx, patient, patient_id, result, True)
    with pytest.raises(Invalid, match="masked"):
        set_author_flags(
            ctx, DOCTOR, patient_id, result, hidden_from_patient_until=until, hidden_from_representatives=False
        )


def test_representatives_act_for_a_minor_except_on_confidential_care(ctx: Context) -> None:
    child = open_test_record(
        ctx,
        identity=PatientIdentity(
            family_name="Dupont", given_names="Léo", birth_date=date(2015, 6, 1), sex="M", postcode="44000"
        ),
    )
    parent_id = open_test_record(ctx)
    parent = Actor.patient(parent_id)
    general = deposit(ctx, child)
    confidential = deposit(ctx, child, "10", author={"rpps": DOCTOR.ref, "name": "Dr Martin"})
    with pytest.raises(NotFound):
        list_documents(ctx, parent, child, DocumentQuery())
    assert link_representative(ctx, SYSTEM, child, parent_id) == date(2033, 6, 1)
    authorise(ctx, Actor.patient(child), child, DOCTOR.ref)
    set_author_flags(ctx, DOCTOR, child, confidential, hidden_from_patient_until=None, hidden_from_representatives=True)
    assert ids(ctx, parent, child) == {general}
    with pytest.raises(NotFound):
        get_document(ctx, parent, child, confidential)
    assert ids(ctx, Actor.patient(child), child) == {general, confidential}
    with pytest.raises(Invalid, match="of age"):
        link_representative(ctx, SYSTEM, parent_id, child)
    with pytest.raises(Forbidden):
        link_representative(ctx, parent, child, parent_id)
    ctx.session.execute(update(Representative).values(until=date(2020, 1, 1)))  # the child came of age
    with pytest.raises(NotFound):
        list_documents(ctx, parent, child, DocumentQuery())


def test_profile_entries_follow_their_source_class(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    add_profile_entry(
        ctx, SYSTEM, patient_id, {"kind": "blood_group", "group": "A+"}, source_class="11", author_rpps=rpps(9)
    )
    add_profile_entry(
        ctx, SYSTEM, patient_id, {"kind": "treatment", "medication": "Insuline"}, source_class="44", author_rpps=rpps(9)
    )
    add_profile_entry(
        ctx,
        patient,
        patient_id,
        {"kind": "advance_directive", "text": "Pas de réanimation.", "written_on": "2025-01-01"},
    )
    for actor in (PODIATRIST, NURSE, PHARMACIST):
        authorise(ctx, patient, patient_id, actor.ref)
    assert {e.kind for e in list_profile(ctx, PODIATRIST, patient_id)} == {"blood_group"}
    assert {e.kind for e in list_profile(ctx, NURSE, patient_id)} == {"blood_group", "treatment", "advance_directive"}
    assert {e.kind for e in list_profile(ctx, PHARMACIST, patient_id)} == {"blood_group", "treatment"}


def test_an_operator_change_to_the_matrix_applies_at_once(ctx: Context, patient_id: uuid.UUID) -> None:
    imaging = deposit(ctx, patient_id, "31")
    authorise(ctx, Actor.patient(patient_id), patient_id, PHARMACIST.ref)
    assert ids(ctx, PHARMACIST, patient_id) == set()
    changed = change_matrix(
        ctx,
        operator="ops-1",
        profession="21",
        class_code="31",
        allow=True,
        reason="Pharmacists review imaging for contrast agents",
    )
    assert changed.version == 2
    assert ids(ctx, PHARMACIST, patient_id) == {imaging}
    with pytest.raises(Invalid, match="already allows"):
        change_matrix(ctx, operator="ops-1", profession="21", class_code="31", allow=True, reason="again, on purpose")
    with pytest.raises(Invalid, match="reason"):
        change_matrix(ctx, operator="ops-1", profession="21", class_code="31", allow=False, reason="no")
    with pytest.raises(Invalid, match="Unknown profession"):
        change_matrix(ctx, operator="ops-1", profession="77", class_code="31", allow=False, reason="a long reason")


def test_closed_records_answer_only_their_patient(ctx: Context, patient_id: uuid.UUID) -> None:
    patient = Actor.patient(patient_id)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    close_record(ctx, patient, patient_id)
    with pytest.raises(NotFound):
        list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    list_documents(ctx, patient, patient_id, DocumentQuery())


def test_a_blocked_professional_is_neither_authorised_nor_made_regular_doctor_until_unblocked(
    ctx: Context, patient_id: uuid.UUID
) -> None:
    """Kept silently, either would be voided by the block: the patient is told to unblock first."""
    patient = Actor.patient(patient_id)
    block(ctx, patient, patient_id, DOCTOR.ref)
    with pytest.raises(Conflict, match="unblock them first") as refused:
        authorise(ctx, patient, patient_id, DOCTOR.ref)
    assert refused.value.message in SERVICE_MESSAGES  # the portal shows it in the patient's language
    with pytest.raises(Conflict, match="unblock them first"):
        set_regular_doctor(ctx, patient, patient_id, DOCTOR.ref)
    unblock(ctx, patient, patient_id, DOCTOR.ref)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    set_regular_doctor(ctx, patient, patient_id, DOCTOR.ref)
    assert read_settings(ctx, patient, patient_id).regular_doctor_rpps == DOCTOR.ref
