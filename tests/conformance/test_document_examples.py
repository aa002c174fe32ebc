"""Every official FHIR R4 DocumentReference example, and every transaction Bundle example, posted as IHE MHD
software would (../shared/fhir-r4-examples): read back as sent apart from the elements Carnet sets, or refused
4xx naming the element. `make conformance` runs it (not `make test`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conformance.examples import (
    Tally,
    difference,
    document_as_sent,
    document_examples,
    document_pointed_at,
    examples_folder,
    first_issue,
    without_document_server_elements,
)
from tests.fhir.conftest import Opened
from tests.fhir.documents import TEXT, b64

pytestmark = pytest.mark.conformance


def _kept(opened: Opened, sent: dict[str, Any], read_path: str, tally: Tally, name: str) -> None:
    read = opened.doctor.get(read_path).json()
    expected = document_as_sent(sent)
    if without_document_server_elements(read, sent) == expected:
        tally.add("accepted equal", name, "")
    else:
        tally.add("changed", name, difference(expected, without_document_server_elements(read, sent)))


def test_every_document_example_reads_back_as_sent_or_is_refused_naming_the_element(opened: Opened) -> None:
    folder = examples_folder()
    files = document_examples(folder)
    assert files, f"No FHIR examples in {folder} (set CARNET_FHIR_EXAMPLES)"
    tally = Tally()
    for path in files:
        example = json.loads(path.read_text(encoding="utf-8"))
        sent = document_pointed_at(example, opened.patient_id)
        is_bundle = example["resourceType"] == "Bundle"
        answer = opened.doctor.post("" if is_bundle else "DocumentReference", sent)
        body = answer.json()
        if answer.status_code >= 500:
            tally.add("5xx", path.name, first_issue(body)[1])
        elif answer.status_code >= 400:
            expression, message = first_issue(body)
            outcome = "refused with element" if expression else "refused without element"
            tally.add(outcome, path.name, f"{answer.status_code} {expression}: {message[:160]}")
        elif is_bundle:
            for entry, response in zip(sent["entry"], body["entry"], strict=True):
                if entry["resource"]["resourceType"] == "DocumentReference":
                    location = response["response"]["location"].removesuffix("/_history/1")
                    _kept(opened, entry["resource"], location, tally, path.name)
        else:
            _kept(opened, sent, f"DocumentReference/{body['id']}", tally, path.name)
    print("\n" + tally.report().replace("of the profile types", "of DocumentReference and Bundle"))  # noqa: T201
    assert tally.counts["changed"] == tally.counts["refused without element"] == tally.counts["5xx"] == 0, (
        tally.report()
    )


def test_the_official_example_made_french_reads_back_as_sent(opened: Opened) -> None:
    """The DocumentReference example with only what a French record needs changed (a JDV_J57 class beside its
    IHE category, a LOINC type Carnet knows, its content sent as data, no very-restricted label nor `appends`
    relation): all its comprehensive metadata (contained author, authenticator, custodian, encounter, event,
    facility, practice setting, source patient, related, docStatus preliminary) reads back as sent."""
    path = examples_folder() / "DocumentReference-example.json"
    example = document_pointed_at(json.loads(path.read_text(encoding="utf-8")), opened.patient_id)
    example["category"].append({"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "10"}]})
    example["type"]["coding"][0]["code"] = "11488-4"
    for element in ("securityLabel", "relatesTo"):
        del example[element]
    attachment = example["content"][0]["attachment"]
    for element in ("url", "size", "hash"):
        del attachment[element]
    attachment.update({"contentType": "text/plain", "data": b64(TEXT)})
    answer = opened.doctor.post("DocumentReference", example)
    assert answer.status_code == 201, answer.text
    read = opened.doctor.get(f"DocumentReference/{answer.json()['id']}").json()
    assert read["docStatus"] == "preliminary"
    assert without_document_server_elements(read, example) == document_as_sent(example)
