"""What the patient controls over FHIR (Consent), what the trail shows (AuditEvent), emergencies (break-glass)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from carnet.access.actor import Mode
from carnet.fhir.codes import ACT_REASON, CONFIDENTIALITY_SYSTEM, EXT_HIDDEN_UNTIL, LOINC, RPPS_SYSTEM
from carnet.identity.tokens import TokenIssuer
from tests.factories import finess, rpps
from tests.fhir.conftest import Fhir, Opened
from tests.fhir.documents import document


def consent(pid: str, kind: str, *, rpps_value: str | None = None, purpose: str | None = None) -> dict[str, object]:
    provision: dict[str, object] = {"type": kind}
    if rpps_value:
        provision["actor"] = [
            {"role": {"text": "soignant"}, "reference": {"identifier": {"system": RPPS_SYSTEM, "value": rpps_value}}}
        ]
    if purpose:
        provision["purpose"] = [{"system": ACT_REASON, "code": purpose}]
    return {
        "resourceType": "Consent",
        "status": "active",
        "scope": {"coding": [{"code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{pid}"},
        "provision": provision,
    }


def test_the_patient_blocks_a_doctor_and_unblocks_them(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    pid = opened.patient_id
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    listed = patient.get("Consent", patient=pid).json()
    assert [e["resource"]["id"].split(".")[1] for e in listed["entry"]] == [f"auth-{opened.doctor_rpps}"]
    blocked = patient.post("Consent", consent(pid, "deny", rpps_value=opened.doctor_rpps))
    assert blocked.status_code == 201 and blocked.json()["provision"]["type"] == "deny"
    assert opened.doctor.get(f"Patient/{pid}").status_code == 404
    assert opened.doctor.get("Consent", patient=pid).status_code == 404  # settings are the patient's to read
    removed = patient.client.delete(f"/fhir/Consent/{blocked.json()['id']}", headers=patient.headers())
    assert removed.status_code == 204
    kinds = [e["resource"]["id"].split(".")[1] for e in patient.get("Consent", patient=pid).json().get("entry", [])]
    assert kinds == []  # the block ended the authorisation, and unblocking does not restore it


def test_emergency_access_is_declared_by_the_token_and_shows_as_break_glass(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    pid = opened.patient_id
    opened.doctor.post("DocumentReference", document(pid))
    urgentist = issuer.for_professional(
        rpps=rpps(31),
        profession="10",
        organisation=finess(31),
        mode=Mode.EMERGENCY,
        purpose="Patient inconscient aux urgences",
    )
    emergency = Fhir(client_for(), urgentist)
    assert emergency.get("DocumentReference", patient=pid).json()["entry"]
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    trail = patient.get("AuditEvent", patient=pid, _count="50").json()["entry"]
    glass = [e["resource"] for e in trail if e["resource"].get("purposeOfEvent")]
    assert glass and all(g["purposeOfEvent"][0]["coding"][0]["code"] == "BTG" for g in glass)
    assert {g["subtype"][0]["code"] for g in glass} >= {"emergency.declare", "document.list"}
    # The patient opts out of emergency access: the next urgentist is refused.
    assert patient.post("Consent", consent(pid, "deny", purpose="BTG")).status_code == 201
    other = Fhir(
        client_for(),
        issuer.for_professional(
            rpps=rpps(32), profession="10", mode=Mode.EMERGENCY, purpose="Arrêt cardiaque en salle"
        ),
    )
    assert other.get("DocumentReference", patient=pid).status_code == 404


def test_operators_read_the_trail_without_content_and_the_patient_sees_them(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    pid = opened.patient_id
    opened.doctor.post("DocumentReference", document(pid))
    operator = Fhir(client_for(), issuer.for_operator(uuid.uuid4()))
    events = operator.get("AuditEvent", patient=pid).json()["entry"]
    assert events and "Consultation" not in str(events)  # titles never appear in the trail
    assert operator.get("DocumentReference", patient=pid).status_code == 403  # scope: AuditEvent only
    assert "entry" not in operator.get("AuditEvent", patient=str(uuid.uuid4())).json()
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    seen = patient.get("AuditEvent", patient=pid).json()["entry"]
    assert seen[0]["resource"]["subtype"][0]["code"] == "trail.read"
    assert patient.get("AuditEvent", patient=pid, date="lt2000-01-01").json().get("entry") is None


def test_the_patients_trail_pages_are_cut_after_hiding_what_they_may_not_see(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    """Lines about a document kept from the patient are left out before paging: full pages, no empty tail."""
    pid = opened.patient_id
    until = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    hidden = document(
        pid,
        meta={"security": [{"system": CONFIDENTIALITY_SYSTEM, "code": "INVISIBLE_PATIENT"}]},
        extension=[{"url": EXT_HIDDEN_UNTIL, "valueDateTime": until}],
    )
    created = opened.doctor.post("DocumentReference", hidden)
    assert created.status_code == 201, created.text
    for _ in range(12):  # twelve reads of the hidden document: lines the patient must not learn of
        assert opened.doctor.get(f"DocumentReference/{created.json()['id']}").status_code == 200
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    pages, offset = [], 0
    while True:
        page = patient.get("AuditEvent", patient=pid, _count="5", _offset=str(offset)).json()
        entries = page.get("entry", [])
        following = [link for link in page.get("link", []) if link["relation"] == "next"]
        pages.append(len(entries))
        assert created.json()["id"] not in str(entries)
        if not following:
            break
        offset += 5
    assert all(count == 5 for count in pages[:-1]) and 1 <= pages[-1] <= 5, pages
