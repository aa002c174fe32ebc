from __future__ import annotations

import csv
import io
import uuid
from datetime import date, timedelta

import pytest

from carnet.access.actor import Actor, Mode
from carnet.access.service import authorise, declare_emergency, link_representative
from carnet.audit import service as audit_service
from carnet.audit.export import export_professional
from carnet.audit.history import access_history
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import Forbidden, Gone, Invalid, NotFound
from carnet.records.documents import deposit_document, get_document, list_documents, set_author_flags
from carnet.records.schemas import DocumentQuery, PatientIdentity
from carnet.records.service import destroy_record, request_destruction
from tests.factories import PDF, SYSTEM, document_meta, open_test_record, rpps

DOCTOR = Actor.professional(rpps(31), "10")
NURSE = Actor.professional(rpps(32), "60")


def flush_trail(ctx: Context) -> None:
    """Write the decisions so far, as the end of a unit of work would."""
    audit_service.write_events(ctx.session, ctx.audit)
    ctx.audit.clear()


def test_the_patient_reads_who_accessed_what_in_plain_words(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Bilan cardiaque"), PDF)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    get_document(ctx, DOCTOR, patient_id, document_id)
    emergency = Actor.professional(NURSE.ref, "60", mode=Mode.EMERGENCY)
    declare_emergency(ctx, emergency, patient_id, "Malaise sur la voie publique, patient inconscient")
    list_documents(ctx, emergency, patient_id, DocumentQuery())
    with pytest.raises(Forbidden):
        list_documents(ctx, Actor.professional(rpps(33), "21"), patient_id, DocumentQuery())
    flush_trail(ctx)

    page = access_history(ctx, patient, patient_id)
    texts = [line.text for line in page.lines]
    assert any(
        text.startswith(f"Médecin (RPPS {DOCTOR.ref}) a consulté votre document « Bilan cardiaque » du 03/03/2026")
        and text.endswith(", en mode normal.")
        for text in texts
    ), texts
    assert any("Vous a changé vos réglages d'accès (authorise)" in text for text in texts)
    refused = [line for line in page.lines if not line.allowed]
    assert len(refused) == 1 and "a tenté" in refused[0].text and refused[0].text.endswith("— refusé.")
    emergency_lines = access_history(ctx, patient, patient_id, emergency_only=True).lines
    assert {line.action for line in emergency_lines} == {"emergency.declare", "document.list"}
    assert all(line.emergency and "en urgence (bris de glace)" in line.text for line in emergency_lines)
    (declared,) = [line for line in emergency_lines if line.action == "emergency.declare"]
    assert declared.text.endswith("Motif : « Malaise sur la voie publique, patient inconscient ».")
    english = access_history(ctx, patient, patient_id, professional=DOCTOR.ref, language="en").lines
    assert [line.text.split(" on ")[0] for line in english] == [
        f"Médecin (RPPS {DOCTOR.ref}) read your document “Bilan cardiaque” of 03 March 2026"
    ]
    assert access_history(ctx, patient, patient_id, since=clock.now() + timedelta(hours=1)).lines == []
    assert {line.mode for line in access_history(ctx, patient, patient_id, mode="emergency").lines} == {"emergency"}
    assert {line.action for line in access_history(ctx, patient, patient_id, mode="normal").lines} >= {"document.read"}
    with pytest.raises(Invalid, match="Unknown mode 'panic'"):
        access_history(ctx, patient, patient_id, mode="panic")
    first = access_history(ctx, patient, patient_id, limit=2)
    assert len(first.lines) == 2 and first.next_offset == 2
    assert [line.at for line in page.lines] == sorted((line.at for line in page.lines), reverse=True)


def test_the_history_never_reveals_a_hidden_document(ctx: Context) -> None:
    minor = PatientIdentity(
        family_name="Roux", given_names="Emma", birth_date=date(2012, 5, 5), sex="F", postcode="33000"
    )
    child = open_test_record(ctx, identity=minor)
    parent_id = open_test_record(ctx)
    link_representative(ctx, SYSTEM, child, parent_id)
    authorise(ctx, Actor.patient(child), child, DOCTOR.ref)
    hidden = deposit_document(ctx, DOCTOR, child, document_meta(author=None, title="Résultat à annoncer"), PDF)
    confidential = deposit_document(ctx, DOCTOR, child, document_meta(author=None, title="Consultation IVG"), PDF)
    set_author_flags(
        ctx,
        DOCTOR,
        child,
        hidden,
        hidden_from_patient_until=clock.now() + timedelta(days=7),
        hidden_from_representatives=False,
    )
    set_author_flags(ctx, DOCTOR, child, confidential, hidden_from_patient_until=None, hidden_from_representatives=True)
    get_document(ctx, DOCTOR, child, hidden)
    get_document(ctx, DOCTOR, child, confidential)
    flush_trail(ctx)
    own = " ".join(line.text for line in access_history(ctx, Actor.patient(child), child).lines)
    assert "Résultat à annoncer" not in own and "Consultation IVG" in own
    parents = " ".join(line.text for line in access_history(ctx, Actor.patient(parent_id), child).lines)
    assert "Résultat à annoncer" not in parents and "Consultation IVG" not in parents
    flush_trail(ctx)
    # The child's own reading of the history, seen by the parent, and the parent's, seen by the child.
    assert "Le titulaire du dossier a consulté l'historique des accès" in " ".join(
        line.text for line in access_history(ctx, Actor.patient(parent_id), child).lines
    )
    assert "Votre représentant légal a consulté l'historique des accès" in " ".join(
        line.text for line in access_history(ctx, Actor.patient(child), child).lines
    )
    for intruder in (DOCTOR, Actor.patient(uuid.uuid4())):
        with pytest.raises((Forbidden, NotFound)):
            access_history(ctx, intruder, child)


def test_operators_export_one_professionals_accesses_without_medical_content(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Sérologie VIH"), PDF)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    authorise(ctx, patient, patient_id, NURSE.ref)
    get_document(ctx, DOCTOR, patient_id, document_id)
    list_documents(ctx, NURSE, patient_id, DocumentQuery())
    flush_trail(ctx)
    out = io.StringIO()
    day = clock.today()
    since = clock.now() - timedelta(days=1)
    count = export_professional(ctx.session, DOCTOR.ref, since, since + timedelta(days=2), out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert count == len(rows) == 1 and day.isoformat() in rows[0]["at"]
    assert (rows[0]["action"], rows[0]["subject"], rows[0]["allowed"]) == (
        "document.read",
        f"document:{document_id}",
        "yes",
    )
    assert "VIH" not in out.getvalue()


def test_the_trail_outlives_a_destroyed_record(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    request_destruction(ctx, patient, patient_id)
    destroy_record(ctx, Actor.system("destruction"), patient_id)
    flush_trail(ctx)
    with pytest.raises(Gone):
        access_history(ctx, patient, patient_id)
    report = audit_service.verify(ctx.session, [patient_id])
    assert report.breaks == [] and report.entries == 4  # open, deposit, request destruction, destroy


def test_the_history_gives_its_parts_and_can_leave_out_the_readers_own_doings(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Échographie"), PDF)
    authorise(ctx, patient, patient_id, DOCTOR.ref)
    list_documents(ctx, patient, patient_id, DocumentQuery())
    get_document(ctx, DOCTOR, patient_id, document_id)
    declare_emergency(ctx, Actor.professional(NURSE.ref, "60", mode=Mode.EMERGENCY), patient_id, "Chute, inconsciente")
    flush_trail(ctx)
    every = access_history(ctx, patient, patient_id).lines
    assert {line.actor_kind for line in every} >= {"patient", "professional"}
    (setting,) = [line for line in every if line.action == "settings.change"]
    assert (setting.detail, setting.about) == ("authorise", DOCTOR.ref)
    (read,) = [line for line in every if line.action == "document.read"]
    assert (read.document_title, read.document_date) == ("Échographie", date(2026, 3, 3))
    (declared,) = [line for line in every if line.action == "emergency.declare"]
    assert declared.reason == "Chute, inconsciente" and declared.emergency
    others = access_history(ctx, patient, patient_id, hide_own=True)
    assert others.lines and all(line.actor_kind != "patient" for line in others.lines)
    assert {line.action for line in others.lines} >= {"document.read", "emergency.declare"}
    assert {rpps for rpps, _ in others.professionals} == {DOCTOR.ref, NURSE.ref}
