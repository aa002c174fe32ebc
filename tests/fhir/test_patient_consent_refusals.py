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
    pid = opened.patient_id
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(pid)))
    answer = patient.post("Consent", change(consent(pid, "permit", rpps_value=opened.doctor_rpps)))
    issue = answer.json()["issue"][0]
    assert (answer.status_code, issue["expression"][0]) == expected, answer.text
    assert ACCEPTS in issue["diagnostics"]
