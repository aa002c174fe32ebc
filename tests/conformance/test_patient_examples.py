"""Every official FHIR R4 Patient example (../shared/fhir-r4-examples), posted with a card presentation and the
card holder's INS beside the example's identifiers, reads back as sent apart from the elements Carnet sets, or is
refused 4xx naming the element. The Consent examples, posted by the patient, are each refused 4xx naming the
element and saying what Carnet's Consent (the patient's access settings) accepts. `make conformance` runs it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from carnet.fhir.codes import EXT_CARD, INS_SYSTEM
from carnet.fhir.consent import ACCEPTS
from carnet.fhir.wire import loads
from carnet.identity.cards import SimulatedCard, register_card
from carnet.identity.tokens import TokenIssuer
from carnet.runtime import Runtime
from tests.api.flows import card_shown
from tests.conformance.examples import (
    TypeTally,
    difference,
    exact,
    examples_folder,
    examples_of,
    first_issue,
    post_as_written,
    with_patient,
    without_patient_server_elements,
    without_server_elements,
)
from tests.factories import new_ins
from tests.fhir.conftest import Fhir, Opened
from tests.http_fixtures import INSURER

pytestmark = pytest.mark.conformance


def presented(example: dict[str, Any], card: dict[str, str], ins: str) -> dict[str, Any]:
    """The example as a professional's software posts it: the card presentation and the INS added, nothing else."""
    presentation = {
        "url": EXT_CARD,
        "extension": [
            {"url": "challenge", "valueString": card["challenge_id"]},
            {"url": "serial", "valueString": card["serial"]},
            {"url": "signature", "valueBase64Binary": card["signature"]},
        ],
    }
    identifiers = [*example.get("identifier", []), {"system": INS_SYSTEM, "value": ins}]
    return {**example, "identifier": identifiers, "extension": [*example.get("extension", []), presentation]}


def new_card_holder(runtime: Runtime) -> tuple[str, SimulatedCard]:
    ins, card = new_ins(), SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
    return ins, card


def tally_refusal(tally: TypeTally, name: str, answer: Response) -> dict[str, Any]:
    body: dict[str, Any] = loads(answer.content)
    if answer.status_code >= 500:
        tally.add("5xx", name, first_issue(body)[1])
    elif answer.status_code >= 400:
        expression, message = first_issue(body)
        outcome = "refused with element" if expression else "refused without element"
        tally.add(outcome, name, f"{answer.status_code} {expression}: {message[:160]}")
    return body


FRENCH_HOME = {"use": "home", "city": "Rennes", "postalCode": "35000", "country": "FR"}


def post_patient_examples(opened: Opened, runtime: Runtime, title: str, *, french_home: bool) -> TypeTally:
    files = examples_of(examples_folder(), "Patient")
    assert files, f"No FHIR examples in {examples_folder()} (set CARNET_FHIR_EXAMPLES)"
    tally, doctor = TypeTally(title=title), opened.doctor
    for path in files:
        ins, card = new_card_holder(runtime)
        example = loads(path.read_bytes())
        if french_home:
            example["address"] = [*example.get("address", []), FRENCH_HOME]
        sent = presented(example, card_shown(doctor.client, doctor.token, card), ins)
        answer = post_as_written(doctor, "Patient", sent)
        body = tally_refusal(tally, path.name, answer)
        if answer.status_code >= 400:
            continue
        read = loads(doctor.client.get(f"/fhir/Patient/{body['id']}", headers=doctor.headers()).content)
        expected, got = exact(without_patient_server_elements(sent)), exact(without_patient_server_elements(read))
        if expected == got and exact(without_server_elements(body)) == exact(without_server_elements(read)):
            tally.add("accepted equal", path.name, "")
        else:
            tally.add("changed", path.name, difference(expected, got))
    print("\n" + tally.report())  # noqa: T201 (the counts are the target's output)
    assert tally.counts["changed"] == tally.counts["refused without element"] == tally.counts["5xx"] == 0, (
        tally.report()
    )
    return tally


def test_every_patient_example_reads_back_as_sent_or_is_refused_naming_the_element(
    opened: Opened, runtime: Runtime
) -> None:
    post_patient_examples(opened, runtime, "FHIR R4 examples of Patient", french_home=False)


def test_with_the_french_address_a_record_opens_with_every_example_reads_back_as_sent(
    opened: Opened, runtime: Runtime
) -> None:
    """None of the examples lives in France; with a French address beside theirs, the rest is read back."""
    title = "FHIR R4 examples of Patient, a French home address added"
    tally = post_patient_examples(opened, runtime, title, french_home=True)
    assert tally.counts["accepted equal"] > 0


def test_every_consent_example_is_refused_naming_the_element_and_saying_what_carnet_accepts(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    files = examples_of(examples_folder(), "Consent")
    assert files, f"No FHIR examples in {examples_folder()} (set CARNET_FHIR_EXAMPLES)"
    tally = TypeTally(title="FHIR R4 examples of Consent")
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(opened.patient_id)))
    unexplained = []
    for path in files:
        sent = with_patient(loads(path.read_bytes()), "patient", opened.patient_id)
        answer = post_as_written(patient, "Consent", sent)
        body = tally_refusal(tally, path.name, answer)
        if answer.status_code < 400:
            tally.add("changed", path.name, "accepted: Carnet's Consent is its settings view, not the resource sent")
        elif ACCEPTS not in first_issue(body)[1]:
            unexplained.append(path.name)
    print("\n" + tally.report())  # noqa: T201 (the counts are the target's output)
    assert tally.counts["changed"] == tally.counts["refused without element"] == tally.counts["5xx"] == 0, (
        tally.report()
    )
    assert unexplained == []
