"""Reading a record in the professional's space: documents as the gate lets them, new since the last access,
one document and its content, the health summary and the reimbursements; and a professional who may not read."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from carnet.access.service import grant_authorisation
from carnet.feeds.schemas import ReimbursementLine
from carnet.feeds.service import add_reimbursements
from carnet.portal import documents as portal_documents
from carnet.records.documents import deposit_document, withdraw_document
from carnet.runtime import Runtime
from tests.factories import CDA, PDF, SYSTEM, document_meta, rpps
from tests.portal.forms import field_error, post, unescaped
from tests.portal.pros import Client, Pro, holder, pro
from tests.portal.signed_in import written_by_a_professional


def _authorised(runtime: Runtime, doctor: Pro, scope: str = "read_write") -> uuid.UUID:
    patient = holder(runtime)
    assert patient.patient_id is not None
    with runtime.unit_of_work() as ctx:
        grant_authorisation(ctx, patient.patient_id, doctor.listed.rpps, scope=scope, via="patient")
    return patient.patient_id


def _deposit(runtime: Runtime, patient_id: uuid.UUID, title: str, **overrides: object) -> uuid.UUID:
    with runtime.unit_of_work() as ctx:
        return deposit_document(ctx, SYSTEM, patient_id, document_meta(title=title, **overrides), PDF)


def test_current_documents_newest_first_and_the_others_on_asking(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    _deposit(runtime, patient_id, "Bilan ancien", act_date=date(2025, 1, 5))
    _deposit(runtime, patient_id, "Bilan récent", act_date=date(2026, 5, 5), class_code="11", type_code="11502-2")
    gone = _deposit(runtime, patient_id, "Compte rendu retiré", author={"rpps": doctor.listed.rpps, "name": "Dr X"})
    with runtime.unit_of_work() as ctx:
        withdraw_document(ctx, doctor.listed.actor(), patient_id, gone)
    page = doctor.client.get(f"/pro/patients/{patient_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert page.text.index("Bilan récent") < page.text.index("Bilan ancien")
    assert "Compte rendu retiré" not in page.text and "Bilan" not in page.text.split("<title>")[1].split("</title>")[0]
    withdrawn = doctor.client.get(f"/pro/patients/{patient_id}?status=withdrawn")
    assert "Compte rendu retiré" in withdrawn.text and "Bilan récent" not in withdrawn.text
    summaries = doctor.client.get(f"/pro/patients/{patient_id}?class=11")
    assert "Bilan récent" in summaries.text and "Bilan ancien" not in summaries.text
    bad = doctor.client.get(f"/pro/patients/{patient_id}?from=2026-05-01&to=2026-01-01")
    assert bad.status_code == 422 and 'id="to-error"' in bad.text


def test_what_came_since_the_last_session_on_the_record_is_marked_new(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    _deposit(runtime, patient_id, "Déjà lu")
    first = doctor.client.get(f"/pro/patients/{patient_id}")
    assert "Déjà lu" in first.text and "Nouveau</strong>" not in first.text  # a first access: no cut
    _deposit(runtime, patient_id, "Arrivé depuis")
    post(doctor.client, "/staff/sign-in/development", {"space": "professional", "rpps": doctor.listed.rpps})
    later = doctor.client.get(f"/pro/patients/{patient_id}")
    arrived = later.text.split("Arrivé depuis")[0].rsplit("<li", 1)[1]
    read = later.text.split("Déjà lu")[0].rsplit("<li", 1)[1]
    assert "Nouveau" in arrived and "Nouveau" not in read
    assert "depuis votre dernier accès" in later.text


def test_a_document_opens_with_its_content_through_the_gate(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    pdf = _deposit(runtime, patient_id, "Compte rendu PDF")
    with runtime.unit_of_work() as ctx:
        cda = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Biologie", format="text/xml"), CDA)
    page = doctor.client.get(f"/pro/patients/{patient_id}/documents/{pdf}")
    assert page.status_code == 200 and "Compte rendu PDF" in page.text and "<iframe" in page.text
    assert "Retirer ce document" not in page.text  # not theirs
    content = doctor.client.get(f"/pro/patients/{patient_id}/documents/{pdf}/content")
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-disposition"] == 'inline; filename="document.pdf"'
    narrative = doctor.client.get(f"/pro/patients/{patient_id}/documents/{cda}")
    assert "Hémoglobine 13,5 g/dL" in narrative.text
    other = doctor.client.get(f"/pro/patients/{patient_id}/documents/{uuid.uuid4()}")
    assert other.status_code == 404


def test_the_health_summary_and_the_reimbursements_as_the_matrix_allows(client_for: Client, runtime: Runtime) -> None:
    doctor, nurse = pro(client_for, runtime), pro(client_for, runtime, "Petit", "60")
    patient_id = _authorised(runtime, doctor)
    with runtime.unit_of_work() as ctx:
        grant_authorisation(ctx, patient_id, nurse.listed.rpps, scope="read_write", via="patient")
    allergy = {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}
            ]
        },
        "code": {"text": "Pénicilline"},
    }
    written_by_a_professional(runtime, patient_id, allergy)
    line = ReimbursementLine(
        claim_ref="CL-7",
        service_date=date(2026, 6, 2),
        code_system="NGAP",
        code="G",
        label="Consultation généraliste",
        amount_cents=3000,
        reimbursed_cents=2100,
    )
    with runtime.unit_of_work() as ctx:
        add_reimbursements(ctx, SYSTEM, patient_id, [line])
    profile = doctor.client.get(f"/pro/patients/{patient_id}/profile")
    assert profile.status_code == 200 and "Pénicilline" in profile.text
    assert "Consultation généraliste" in doctor.client.get(f"/pro/patients/{patient_id}/reimbursements").text
    refused = nurse.client.get(f"/pro/patients/{patient_id}/reimbursements")
    assert refused.status_code == 200 and "Consultation généraliste" not in refused.text  # class 60: not a nurse's
    assert "Aucun remboursement" in refused.text


def test_a_professional_who_may_not_read_is_told_so_and_offered_the_deposit(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, stranger = pro(client_for, runtime), pro(client_for, runtime, "Faure")
    patient_id = _authorised(runtime, doctor, scope="deposit")
    _deposit(runtime, patient_id, "Secret bien gardé")
    for who in (doctor, stranger):
        page = who.client.get(f"/pro/patients/{patient_id}")
        assert page.status_code == 403 and "Vous ne pouvez pas lire ce dossier" in page.text
        assert "Secret bien gardé" not in page.text and f"/pro/patients/{patient_id}/deposit" in page.text
        assert "Claire" not in page.text  # not even the patient's name
    unknown = doctor.client.get(f"/pro/patients/{uuid.uuid4()}")
    assert unknown.status_code == 404 and rpps() not in unknown.text


def test_a_search_of_the_titles_is_sent_by_post_and_pages_by_post(
    client_for: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    for n, title in enumerate(("Échographie abdominale", "Bilan sanguin", "Échographie cardiaque")):
        _deposit(runtime, patient_id, title, act_date=date(2026, 2, n + 1))
    path = f"/pro/patients/{patient_id}"
    assert f'action="{path}/search"' in doctor.client.get(path).text
    found = post(doctor.client, f"{path}/search", {"words": "  ECHOGRAPHIE  "}, token_from=path)
    assert found.status_code == 200 and "ECHOGRAPHIE" not in str(found.url)
    text = unescaped(found.text)
    assert "Documents dont le titre contient « ECHOGRAPHIE »" in text
    assert "Échographie cardiaque" in text and "Échographie abdominale" in text and "Bilan sanguin" not in text
    assert text.index("Échographie cardiaque") < text.index("Échographie abdominale")  # newest act first
    none = post(doctor.client, f"{path}/search", {"words": "scanner"}, token_from=path)
    assert "Aucun document que vous pouvez lire" in unescaped(none.text)
    empty = post(doctor.client, f"{path}/search", {"words": " "}, token_from=path)
    assert empty.status_code == 422 and field_error(empty, "words")
    monkeypatch.setattr(portal_documents, "PER_PAGE", 1)
    first = post(doctor.client, f"{path}/search", {"words": "echographie"}, token_from=path)
    assert "Échographie cardiaque" in unescaped(first.text) and 'name="page" value="2"' in first.text
    second = post(doctor.client, f"{path}/search", {"words": "echographie", "page": "2"}, token_from=path)
    assert "Échographie abdominale" in unescaped(second.text) and 'name="page" value="1"' in second.text
