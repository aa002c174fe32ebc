"""The whole record over HTTP: the FHIR Bundle and the PDF summary to download, closing and reopening it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, timedelta

from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

from carnet.feeds.schemas import ReimbursementLine
from carnet.feeds.service import add_reimbursements
from carnet.kit import clock
from carnet.portal.web import format_day
from carnet.records.service import record_summary
from carnet.runtime import Runtime
from tests.factories import SYSTEM
from tests.http_fixtures import PASSWORD, Person
from tests.portal.forms import field_error, post, unescaped
from tests.portal.patients import FIRST_DOCUMENT, SECOND_DOCUMENT
from tests.portal.signed_in import SignedIn, signed_in, written_by_a_professional

Client = Callable[..., TestClient]


def _pdf_text(content: bytes) -> str:
    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(content)).pages)


def _state(runtime: Runtime, me: SignedIn) -> str:
    from carnet.access.actor import Actor

    with runtime.unit_of_work() as ctx:
        return record_summary(ctx, Actor.patient(me.patient_id), me.patient_id).state


def test_the_whole_record_downloads_as_a_fhir_bundle(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    post(me.client, "/patient/profile/add/allergy", {"substance": "Pénicilline", "type": "allergy"})
    answer = me.client.get("/patient/record/bundle")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/fhir+json"
    assert answer.headers["content-disposition"] == 'attachment; filename="carnet-record.json"'
    assert answer.headers["cache-control"] == "no-store"
    whole = json.loads(answer.content)
    bundle = Bundle.model_validate(whole)  # a valid R4 Bundle
    assert bundle.type == "collection"
    resources = [e["resource"] for e in whole["entry"]]
    kinds = [r["resourceType"] for r in resources]
    assert kinds[0] == "Patient" and "AllergyIntolerance" in kinds and kinds.count("DocumentReference") == 2
    titles = {r["description"] for r in resources if r["resourceType"] == "DocumentReference"}
    assert titles == {FIRST_DOCUMENT, SECOND_DOCUMENT}


def test_the_pdf_summary_holds_the_profile_the_documents_and_the_reimbursements(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    post(me.client, "/patient/profile/add/allergy", {"substance": "Pénicilline", "type": "allergy"})
    post(me.client, "/patient/profile/add/weight", {"value": "150,5", "unit": "lb", "measured_on": "2026-05-01"})
    written_by_a_professional(
        runtime,
        me.patient_id,
        {
            "resourceType": "AllergyIntolerance",
            "code": {"text": "Aspirine"},
            "verificationStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                        "code": "refuted",
                    }
                ]
            },
        },
    )
    line = ReimbursementLine(
        claim_ref="CL-1",
        service_date=date(2026, 6, 2),
        code_system="NGAP",
        code="G",
        label="Consultation généraliste",
        amount_cents=3000,
        reimbursed_cents=2100,
    )
    with runtime.unit_of_work() as ctx:
        add_reimbursements(ctx, SYSTEM, me.patient_id, [line])
    answer = me.client.get("/patient/record/summary.pdf")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"] == 'attachment; filename="carnet-summary.pdf"'
    text = _pdf_text(answer.content)
    assert "Synthèse de votre dossier" in text and "Claire" in text
    assert "Pénicilline" in text and "150,5 lb" in text
    assert "Aspirine" in text and "Hypothèse écartée" in text
    assert FIRST_DOCUMENT in text and SECOND_DOCUMENT in text
    assert "Consultation généraliste" in text and "30,00" in text


def test_the_pdf_summary_is_in_the_readers_language(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person, lang="en")
    text = _pdf_text(me.client.get("/patient/record/summary.pdf").content)
    assert "Summary of your record" in text and "Your health summary" in text and "9 June 2026" in text


def test_closing_needs_the_password_and_reopening_restores_the_record(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    warning = unescaped(me.client.get("/patient/record/close").text)
    assert "10 ans" in warning and "directives anticipées" in warning
    wrong = post(me.client, "/patient/record/close", {"password": "not my password at all"})
    assert wrong.status_code == 401
    assert field_error(wrong, "password") == "Le mot de passe est incorrect."
    assert "not my password" not in wrong.text
    empty = post(me.client, "/patient/record/close", {"password": ""})
    assert empty.status_code == 422 and field_error(empty, "password") == "Saisissez votre mot de passe."
    assert _state(runtime, me) == "open"

    closed = post(me.client, "/patient/record/close", {"password": PASSWORD})
    assert closed.headers["location"] == "/patient/record?done=close"
    assert "Votre dossier est fermé." in me.client.get(closed.headers["location"]).text
    assert _state(runtime, me) == "closed"
    assert "Votre dossier est fermé" in me.client.get("/patient").text
    profile = me.client.get("/patient/profile").text
    assert "/patient/profile/add/" not in profile  # nothing is added to a closed record
    refused = post(me.client, "/patient/profile/add/treatment", {"medication": "Doliprane"}, token_from="/patient")
    assert refused.status_code == 409
    assert unescaped(field_error(refused, "medication")).startswith("Ce dossier est fermé")

    reopened = post(me.client, "/patient/record/reopen", {"password": PASSWORD})
    assert reopened.headers["location"] == "/patient/record?done=reopen"
    assert _state(runtime, me) == "open"


def test_asking_destruction_closes_the_record_and_reopening_withdraws_it(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person, lang="en")
    warning = me.client.get("/patient/record/destruction").text
    assert "30 days later it is destroyed, within 3 months at the latest" in warning
    asked = post(me.client, "/patient/record/destruction", {"password": PASSWORD})
    assert asked.headers["location"] == "/patient/record?done=destruction"
    page = me.client.get(asked.headers["location"]).text
    on = format_day(clock.today() + timedelta(days=30), "en")  # the cooling-off period, 30 days by default
    assert f"it will be destroyed from {on}" in page and "Reopen your record" in page
    assert _state(runtime, me) == "closed"
    cancelled = post(me.client, "/patient/record/destruction/cancel", {}, token_from="/patient/record")
    assert cancelled.headers["location"] == "/patient/record?done=cancelled"
    after = me.client.get(cancelled.headers["location"]).text
    assert "Your request is cancelled" in after and "Cancel the destruction" not in after
    assert _state(runtime, me) == "closed"  # it stays closed, no longer to be destroyed
    again = post(me.client, "/patient/record/destruction/cancel", {}, token_from="/patient/record")
    assert again.status_code == 409 and "Traceback" not in again.text
    post(me.client, "/patient/record/destruction", {"password": PASSWORD})
    post(me.client, "/patient/record/reopen", {"password": PASSWORD})
    from carnet.access.actor import Actor

    with runtime.unit_of_work() as ctx:
        summary = record_summary(ctx, Actor.patient(me.patient_id), me.patient_id)
    assert summary.state == "open" and summary.destruction_requested_at is None


def test_the_record_pages_need_a_session(client_for: Client) -> None:
    stranger = client_for()
    for path in ("/patient/record", "/patient/record/bundle", "/patient/record/summary.pdf", "/patient/record/close"):
        assert stranger.get(path, follow_redirects=False).headers["location"] == f"/patient/sign-in?next={path}"
    assert stranger.get("/patient/record/elsewhere").status_code == 404
