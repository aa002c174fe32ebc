"""A Consent Carnet cannot keep as one of the patient's access settings is refused 4xx naming the element, with a
sentence saying what Carnet's Consent accepts."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carnet.fhir.consent import ACCEPTS
from carnet.identity.tokens import TokenIssuer
from tests.fhir.conftest import Fhir, Opened
from tests.fhir.test_patient_controls import consent


def without(resource: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(resource)
    parent = changed
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return changed


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: without(c, "provision", "type"), (422, "Consent.provision.type")),
        (lambda c: without(c, "provision"), (422, "Consent.provision")),
        (lambda c: without(c, "provision", "actor"), (422, "Consent.provision")),
        (lambda c: {**c, "provision": {**c["provision"], "type": "maybe"}}, (422, "Consent.provision.type")),
        (lambda c: {**c, "colour": "blue"}, (400, "Consent.colour")),
        (lambda c: without(c, "patient"), (400, "Consent.patient")),
        (
            lambda c: {
                **c,
                "provision": {
                    **c["provision"],
                    "actor": [
                        {
                            **c["provision"]["actor"][0],
                            "reference": {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.1", "value": "123"}},
                        }
                    ],
                },
            },
            (422, "Consent.provision.actor"),
        ),
    ],
    ids=["no type", "no provision", "no actor", "unknown type", "unknown element", "no patient", "malformed RPPS"],
)
def test_a_consent_carnet_cannot_keep_is_refused_naming_the_element_and_saying_what_it_accepts(
    opened: Opened,
    issuer: TokenIssuer,
    client_for: Callable[..., TestClient],
    change: Callable[[dict[str, Any]], dict[str, Any]],
    expected: tuple[int, str],
) -> None:
    _refused_as(
        opened,
        issuer,
        client_for,
        change(consent(opened.patient_id, "permit", rpps_value=opened.doctor_rpps)),
        expected,
    )


def _provision(**extra: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda c: {**c, "provision": {**c["provision"], **extra}}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_provision(provision=[{"type": "deny", "class": [{"code": "10"}]}]), "Consent.provision.provision"),
        (_provision(period={"end": "2027-01-01"}), "Consent.provision.period"),
        (_provision(dataPeriod={"start": "2020-01-01"}), "Consent.provision.dataPeriod"),
        (_provision(code=[{"text": "imaging only"}]), "Consent.provision.code"),
        (_provision(action=[{"coding": [{"code": "correct"}]}]), "Consent.provision.action"),
        (lambda c: {**c, "status": "draft"}, "Consent.status"),
        (
            lambda c: {**c, "provision": {**c["provision"], "actor": c["provision"]["actor"] * 2}},
            "Consent.provision.actor[1]",
        ),
    ],
    ids=["nested provision", "period", "data period", "code", "other action", "draft", "two actors"],
)
def test_what_a_consent_would_lose_is_refused_and_nothing_changes(
    opened: Opened,
    issuer: TokenIssuer,
    client_for: Callable[..., TestClient],
    change: Callable[[dict[str, Any]], dict[str, Any]],
    expected: str,
) -> None:
    """A permit with a nested deny, an end date, a narrower scope: kept silently, each would authorise more, or
    longer, than the patient asked. Refused naming the element; the settings stay as they were."""
    sent = change(consent(opened.patient_id, "deny", rpps_value=opened.doctor_rpps))
    _refused_as(opened, issuer, client_for, sent, (422, expected))
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(opened.patient_id)))
    listed = patient.get("Consent", patient=opened.patient_id).json()
    assert [e["resource"]["id"].split(".")[1] for e in listed["entry"]] == [f"auth-{opened.doctor_rpps}"]


def _refused_as(
    opened: Opened,
    issuer: TokenIssuer,
    client_for: Callable[..., TestClient],
    sent: dict[str, Any],
    expected: tuple[int, str],
) -> None:
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(opened.patient_id)))
    answer = patient.post("Consent", sent)
    issue = answer.json()["issue"][0]
    assert (answer.status_code, issue["expression"][0]) == expected, answer.text
    assert ACCEPTS in issue["diagnostics"]
