"""DocumentReference and Binary over FHIR: deposit, read, search, versions, labels, bundles."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bench.observations import body_weight
from fastapi.testclient import TestClient

from carnet.access.actor import Mode
from carnet.fhir.codes import CONFIDENTIALITY_SYSTEM, EXT_HIDDEN_UNTIL, MASKED, RPPS_SYSTEM, URI
from carnet.identity.tokens import TokenIssuer
from carnet.records.document_types import EXT_DEPOSITOR
from tests.fhir.conftest import Fhir, Opened
from tests.fhir.documents import TEXT, bundle, document


def patient_of(opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]) -> Fhir:
    return Fhir(client_for(), issuer.for_patient(uuid.UUID(opened.patient_id)))


def test_deposit_read_and_read_the_content(opened: Opened) -> None:
    created = opened.doctor.post("DocumentReference", document(opened.patient_id))
    assert created.status_code == 201, created.text
    body = created.json()
    assert created.headers["etag"] == 'W/"1"'
    assert created.headers["location"].endswith(f"/fhir/DocumentReference/{body['id']}/_history/1")
    assert body["status"] == "current" and body["meta"]["versionId"] == "1"
    # No author written, none read; who deposited it is Carnet's extension, from the token.
    assert "author" not in body
    assert body["extension"] == [
        {"url": EXT_DEPOSITOR, "valueReference": {"identifier": {"system": RPPS_SYSTEM, "value": opened.doctor_rpps}}}
    ]
    read = opened.doctor.get(f"DocumentReference/{body['id']}")
    assert read.json() == body
    raw = opened.doctor.client.get(
        f"/fhir/Binary/{body['id']}", headers={"Authorization": f"Bearer {opened.doctor.token}"}
    )
    assert raw.status_code == 200 and raw.content == TEXT and raw.headers["content-type"].startswith("text/plain")
    as_fhir = opened.doctor.get(f"Binary/{body['id']}").json()
    assert as_fhir["resourceType"] == "Binary" and as_fhir["securityContext"]["reference"].endswith(body["id"])


def test_if_none_exist_finds_the_document_already_sent(opened: Opened) -> None:
    sent = document(opened.patient_id)
    condition = {"If-None-Exist": f"identifier={URI}|{sent['masterIdentifier']['value']}"}
    first = opened.doctor.post("DocumentReference", sent, headers=condition)
    again = opened.doctor.post("DocumentReference", sent, headers=condition)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    without_condition = opened.doctor.post("DocumentReference", sent)
    assert without_condition.status_code == 409


def test_search_filters_sorts_and_pages(opened: Opened) -> None:
    ids = [opened.doctor.post("DocumentReference", document(opened.patient_id)).json()["id"] for _ in range(3)]
    report = document(opened.patient_id, type={"coding": [{"system": "http://loinc.org", "code": "11502-2"}]})
    lab = opened.doctor.post("DocumentReference", report).json()["id"]
    everything = opened.doctor.get("DocumentReference", patient=f"Patient/{opened.patient_id}", _sort="date").json()
    assert [e["resource"]["id"] for e in everything["entry"]] == [*ids, lab]
    newest_first = opened.doctor.get("DocumentReference", patient=opened.patient_id, _sort="-date").json()
    assert newest_first["entry"][0]["resource"]["id"] == lab
    labs = opened.doctor.get("DocumentReference", patient=opened.patient_id, type="http://loinc.org|11502-2").json()
    assert [e["resource"]["id"] for e in labs["entry"]] == [lab]
    today = datetime.now(UTC).date()
    assert (
        len(opened.doctor.get("DocumentReference", patient=opened.patient_id, date=f"ge{today}").json()["entry"]) == 4
    )
    assert (
        "entry"
        not in opened.doctor.get(
            "DocumentReference", patient=opened.patient_id, date=f"lt{today - timedelta(days=1)}"
        ).json()
    )
    mine = opened.doctor.get(
        "DocumentReference", patient=opened.patient_id, **{"author:identifier": f"{RPPS_SYSTEM}|{opened.doctor_rpps}"}
    )
    assert len(mine.json()["entry"]) == 4
    first = opened.doctor.get("DocumentReference", patient=opened.patient_id, _sort="date", _count="3").json()
    assert len(first["entry"]) == 3
    following = [link["url"] for link in first["link"] if link["relation"] == "next"]
    assert following and "_offset=3" in following[0]
    second = opened.doctor.client.get(following[0], headers=opened.doctor.headers()).json()
    assert [e["resource"]["id"] for e in second["entry"]] == [lab]
    bad = opened.doctor.get("DocumentReference", patient=opened.patient_id, date="yesterday")
    assert bad.status_code == 400
    unknown = opened.doctor.get("DocumentReference", patient=opened.patient_id, colour="blue")
    assert unknown.status_code == 400


def test_the_patient_masks_a_document_and_the_versions_are_kept(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient], doctor_token: Callable[..., str]
) -> None:
    created = opened.doctor.post("DocumentReference", document(opened.patient_id)).json()
    patient = patient_of(opened, issuer, client_for)
    masked = {**created, "meta": {**created["meta"], "security": [{"system": CONFIDENTIALITY_SYSTEM, "code": MASKED}]}}
    stale = patient.put(f"DocumentReference/{created['id']}", masked, headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    done = patient.put(f"DocumentReference/{created['id']}", masked, headers={"If-Match": 'W/"1"'})
    assert done.status_code == 200, done.text
    assert done.json()["meta"]["versionId"] == "2" and done.headers["etag"] == 'W/"2"'
    # The author still sees it; another authorised doctor does not, and is told what a missing one tells.
    assert opened.doctor.get(f"DocumentReference/{created['id']}").status_code == 200
    history = patient.get(f"DocumentReference/{created['id']}/_history").json()
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    first = patient.get(f"DocumentReference/{created['id']}/_history/1").json()
    assert "security" not in first["meta"]
    assert patient.get(f"DocumentReference/{created['id']}/_history/9").status_code == 404


def test_an_update_changes_labels_and_status_only(opened: Opened) -> None:
    created = opened.doctor.post("DocumentReference", document(opened.patient_id)).json()
    retitled = {**created, "description": "Autre titre"}
    refused = opened.doctor.put(f"DocumentReference/{created['id']}", retitled)
    assert refused.status_code == 422
    assert refused.json()["issue"][0]["details"]["coding"][0]["code"] == "immutable-element"
    until = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    hidden = {
        **created,
        "meta": {"security": [{"system": CONFIDENTIALITY_SYSTEM, "code": "INVISIBLE_PATIENT"}]},
        "extension": [{"url": EXT_HIDDEN_UNTIL, "valueDateTime": until}],
    }
    assert opened.doctor.put(f"DocumentReference/{created['id']}", hidden).status_code == 200
    withdrawn = opened.doctor.put(f"DocumentReference/{created['id']}", {**hidden, "status": "entered-in-error"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "entered-in-error"


def test_a_new_version_replaces_the_old(opened: Opened) -> None:
    old = opened.doctor.post("DocumentReference", document(opened.patient_id)).json()
    relation = [{"code": "replaces", "target": {"reference": f"DocumentReference/{old['id']}"}}]
    new = opened.doctor.post("DocumentReference", document(opened.patient_id, relatesTo=relation))
    assert new.status_code == 201, new.text
    assert new.json()["relatesTo"][0]["target"]["reference"] == f"DocumentReference/{old['id']}"
    assert opened.doctor.get(f"DocumentReference/{old['id']}").json()["status"] == "superseded"


def test_a_document_bundle_is_stored_whole(opened: Opened) -> None:
    sent = bundle(opened.patient_id, count=2)
    answer = opened.doctor.post("", sent)
    assert answer.status_code == 200, answer.text
    statuses = [e["response"]["status"] for e in answer.json()["entry"]]
    assert statuses == ["200 OK", "201 Created", "201 Created", "201 Created", "201 Created"]
    location = answer.json()["entry"][1]["response"]["location"]
    assert location.startswith("DocumentReference/") and location.endswith("/_history/1")
    binary = answer.json()["entry"][2]["response"]["location"]
    raw = opened.doctor.client.get(f"/fhir/{binary}", headers={"Authorization": f"Bearer {opened.doctor.token}"})
    assert raw.content == TEXT


def test_a_half_invalid_bundle_stores_nothing(opened: Opened) -> None:
    sent = bundle(opened.patient_id, count=2)
    sent["entry"][3]["resource"]["category"] = [{"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "77"}]}]
    refused = opened.doctor.post("", sent)
    assert refused.status_code == 422, refused.text
    sent = bundle(opened.patient_id, count=2)
    sent["entry"][4]["resource"]["data"] = "%PDF"  # not base64: the whole bundle is malformed
    assert opened.doctor.post("", sent).status_code == 400
    # A bundle whose second document fails in the service (a PDF that is not one) rolls back the first.
    sent = bundle(opened.patient_id, count=2)
    sent["entry"][3]["resource"]["content"][0]["attachment"]["contentType"] = "application/pdf"
    sent["entry"][4]["resource"]["contentType"] = "application/pdf"
    assert opened.doctor.post("", sent).status_code == 422
    listed = opened.doctor.get("DocumentReference", patient=opened.patient_id).json()
    assert "entry" not in listed


def test_a_writer_in_deposit_only_mode_is_told_what_was_stored_and_still_reads_nothing(
    opened: Opened, doctor_token: Callable[..., str]
) -> None:
    """The answer to a deposit is what was stored, not a read: deposit-only mode gets 201, then no read."""
    depositing = Fhir(opened.doctor.client, doctor_token(mode=Mode.DEPOSIT_ONLY))
    created = depositing.post("DocumentReference", document(opened.patient_id))
    assert created.status_code == 201, created.text
    provided = depositing.post("", bundle(opened.patient_id, count=1))
    assert provided.status_code == 200, provided.text
    stored = opened.doctor.get(f"DocumentReference/{created.json()['id']}")
    assert stored.json() == created.json()
    refused = depositing.get(f"DocumentReference/{created.json()['id']}")
    assert refused.status_code == 404  # a read refused answers like a missing document
    listed = opened.doctor.get("DocumentReference", patient=f"Patient/{opened.patient_id}", _count=50).json()
    assert len(listed["entry"]) == 2


def test_a_profile_writer_in_deposit_only_mode_is_told_what_was_stored(
    opened: Opened, doctor_token: Callable[..., str]
) -> None:
    depositing = Fhir(opened.doctor.client, doctor_token(mode=Mode.DEPOSIT_ONLY))
    created = depositing.post("Observation", body_weight(opened.patient_id))
    assert created.status_code == 201, created.text
    assert opened.doctor.get(f"Observation/{created.json()['id']}").json() == created.json()
    assert depositing.get(f"Observation/{created.json()['id']}").status_code == 404
