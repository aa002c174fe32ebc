"""Issue 19 for documents: a DocumentReference reads back as its writer sent it, or is refused naming the element.

Each test below failed on the code before: the metadata was mapped into narrow columns and rebuilt on read.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from carnet.fhir.codes import CONFIDENTIALITY_SYSTEM, MASKED, RPPS_SYSTEM, URI
from carnet.fhir.wire import dumps
from carnet.identity.tokens import TokenIssuer
from carnet.records.document_types import EXT_DEPOSITOR, V3_CONFIDENTIALITY
from tests.factories import rpps
from tests.fhir.conftest import Fhir, Opened
from tests.fhir.documents import TEXT, b64, bundle, document

SERVER_ATTACHMENT = ("url", "size", "hash")


def as_sent(read: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """A read without what Carnet sets (id, meta.versionId/lastUpdated, its depositor extension, the attachment's
    url, and size, hash and date unless the writer gave them), to compare with what was sent."""
    kept = {k: copy.deepcopy(v) for k, v in read.items() if k != "id"}
    meta = {k: v for k, v in kept.pop("meta").items() if k not in ("versionId", "lastUpdated")}
    if meta:
        kept["meta"] = meta
    extensions = [e for e in kept.pop("extension") if e["url"] != EXT_DEPOSITOR]
    if extensions:
        kept["extension"] = extensions
    if "date" not in sent:
        kept.pop("date")
    written = sent["content"][0]["attachment"]
    attachment = kept["content"][0]["attachment"]
    for element in SERVER_ATTACHMENT:
        if element not in written or element == "url":
            attachment.pop(element)
    return kept


def without_data(sent: dict[str, Any]) -> dict[str, Any]:
    expected = copy.deepcopy(sent)
    for element in ("data", "url"):
        expected["content"][0]["attachment"].pop(element, None)
    return expected


def first_expression(body: dict[str, Any]) -> str:
    return str(body["issue"][0]["expression"][0])


def test_a_preliminary_report_reads_preliminary_and_is_listed(opened: Opened) -> None:
    sent = document(opened.patient_id, docStatus="preliminary")
    created = opened.doctor.post("DocumentReference", sent)
    assert created.status_code == 201, created.text
    read = opened.doctor.get(f"DocumentReference/{created.json()['id']}").json()
    assert read["docStatus"] == "preliminary"
    listed = opened.doctor.get("DocumentReference", patient=opened.patient_id).json()
    assert [e["resource"]["docStatus"] for e in listed["entry"]] == ["preliminary"]


def test_a_very_restricted_label_is_refused_naming_it_and_normal_ones_are_kept(opened: Opened) -> None:
    very = [{"coding": [{"system": V3_CONFIDENTIALITY, "code": "V", "display": "very restricted"}]}]
    refused = opened.doctor.post("DocumentReference", document(opened.patient_id, securityLabel=very))
    assert refused.status_code == 422, refused.text
    assert first_expression(refused.json()) == "DocumentReference.securityLabel[0].coding[0]"
    restricted = {"system": V3_CONFIDENTIALITY, "code": "R"}
    in_meta = opened.doctor.post("DocumentReference", document(opened.patient_id, meta={"security": [restricted]}))
    assert (in_meta.status_code, first_expression(in_meta.json())) == (422, "DocumentReference.meta.security[0]")
    assert "entry" not in opened.doctor.get("DocumentReference", patient=opened.patient_id).json()
    normal = [{"coding": [{"system": V3_CONFIDENTIALITY, "code": "N"}]}]
    sent = document(opened.patient_id, securityLabel=normal)
    kept = opened.doctor.post("DocumentReference", sent)
    assert kept.status_code == 201, kept.text
    assert kept.json()["securityLabel"] == normal


def test_the_real_author_is_kept_and_the_depositor_is_carnets_extension(opened: Opened) -> None:
    authors = [
        {"reference": "Practitioner/f201"},
        {"reference": "#writer"},
        {"identifier": {"system": RPPS_SYSTEM, "value": f"8{opened.doctor_rpps}"}, "display": "Dr Martin"},
    ]
    writer = {
        "resourceType": "PractitionerRole",
        "id": "writer",
        "identifier": [{"system": "urn:oid:1.2.250.1.71.4.2.1", "value": f"8{opened.doctor_rpps}"}],
    }
    sent = document(opened.patient_id, author=authors, contained=[writer])
    created = opened.doctor.post("DocumentReference", sent)
    assert created.status_code == 201, created.text
    read = opened.doctor.get(f"DocumentReference/{created.json()['id']}").json()
    assert read["author"] == authors and read["contained"] == [writer]
    depositor = {"identifier": {"system": RPPS_SYSTEM, "value": opened.doctor_rpps}}
    assert {"url": EXT_DEPOSITOR, "valueReference": depositor} in read["extension"]
    mine = opened.doctor.get(
        "DocumentReference", patient=opened.patient_id, **{"author:identifier": f"{RPPS_SYSTEM}|{opened.doctor_rpps}"}
    )
    assert [e["resource"]["id"] for e in mine.json()["entry"]] == [read["id"]]
    someone_else = [{"identifier": {"system": RPPS_SYSTEM, "value": rpps(99)}}]
    refused = opened.doctor.post("DocumentReference", document(opened.patient_id, author=someone_else))
    assert (refused.status_code, first_expression(refused.json())) == (422, "DocumentReference.author")
    bad = [{"identifier": {"system": RPPS_SYSTEM, "value": "812345"}}]
    malformed = opened.doctor.post("DocumentReference", document(opened.patient_id, author=bad))
    assert first_expression(malformed.json()) == "DocumentReference.author[0].identifier.value"


def test_the_period_of_the_act_keeps_its_time_of_day(opened: Opened) -> None:
    period = {"start": "2026-03-03T08:15:00+01:00", "end": "2026-03-03T09:40:00+01:00"}
    sent = document(opened.patient_id, context={"period": period})
    created = opened.doctor.post("DocumentReference", sent)
    assert created.status_code == 201, created.text
    assert opened.doctor.get(f"DocumentReference/{created.json()['id']}").json()["context"]["period"] == period


MHD_CONTEXT = {
    "encounter": [{"reference": "Encounter/sejour-42"}],
    "event": [{"coding": [{"system": "https://mos.esante.gouv.fr/NOS/CCAM", "code": "YYYY010"}]}],
    "period": {"start": "2026-02-10T14:00:00+01:00"},
    "facilityType": {"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.9", "code": "SA01", "display": "CH"}]},
    "practiceSetting": {"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.2.286", "code": "MED"}]},
    "related": [{"identifier": {"system": URI, "value": "urn:oid:1.2.3.4.5"}}],
}


def test_a_bundle_keeps_the_comprehensive_mhd_metadata(opened: Opened) -> None:
    sent = bundle(opened.patient_id, count=1)
    reference = sent["entry"][1]["resource"]
    reference.update(
        {
            "authenticator": {"reference": "Practitioner/chef-de-service"},
            "custodian": {"identifier": {"system": "urn:oid:1.2.250.1.71.4.2.2", "value": "750000010"}},
            "context": {**MHD_CONTEXT, "sourcePatientInfo": {"reference": f"Patient/{opened.patient_id}"}},
            "identifier": [{"system": URI, "value": "urn:oid:1.2.3.4.6"}],
            "docStatus": "amended",
            "date": "2026-02-10T15:30:00+01:00",
        }
    )
    answer = opened.doctor.post("", sent)
    assert answer.status_code == 200, answer.text
    location = answer.json()["entry"][1]["response"]["location"]
    read = opened.doctor.get(location.removesuffix("/_history/1")).json()
    assert as_sent(read, reference) == without_data(reference)
    assert read["content"][0]["attachment"]["url"] == answer.json()["entry"][2]["response"]["location"]
    assert read["content"][0]["attachment"]["size"] == len(TEXT)


def test_a_bundle_refusal_names_the_element_inside_the_bundle(opened: Opened) -> None:
    sent = bundle(opened.patient_id, count=2)
    sent["entry"][3]["resource"]["securityLabel"] = [{"coding": [{"system": V3_CONFIDENTIALITY, "code": "V"}]}]
    refused = opened.doctor.post("", sent)
    assert refused.status_code == 422, refused.text
    assert first_expression(refused.json()) == "Bundle.entry[3].resource.securityLabel[0].coding[0]"
    sent = bundle(opened.patient_id, count=1)
    sent["entry"].append({"resource": {"resourceType": "Patient"}, "request": {"method": "POST", "url": "Patient"}})
    assert first_expression(opened.doctor.post("", sent).json()) == "Bundle.entry[3].resource"


def test_size_and_hash_are_kept_when_true_and_refused_when_false(opened: Opened) -> None:
    sent = document(opened.patient_id)
    sent["content"][0]["attachment"]["size"] = len(TEXT) + 1
    refused = opened.doctor.post("DocumentReference", sent)
    assert first_expression(refused.json()) == "DocumentReference.content[0].attachment.size"
    sent["content"][0]["attachment"]["hash"] = b64(b"not the sha-1")
    sent["content"][0]["attachment"]["size"] = len(TEXT)
    refused = opened.doctor.post("DocumentReference", sent)
    assert first_expression(refused.json()) == "DocumentReference.content[0].attachment.hash"


def test_each_version_reads_as_its_writer_sent_it(
    opened: Opened, issuer: TokenIssuer, client_for: Callable[..., TestClient]
) -> None:
    sent = document(opened.patient_id, docStatus="final", meta={"tag": [{"system": "urn:x", "code": "t"}]})
    created = opened.doctor.post("DocumentReference", sent).json()
    patient = Fhir(client_for(), issuer.for_patient(uuid.UUID(opened.patient_id)))
    labels = [{"system": CONFIDENTIALITY_SYSTEM, "code": MASKED, "display": "masqué"}]
    masked = {**created, "meta": {**created["meta"], "security": labels}}
    done = patient.put(f"DocumentReference/{created['id']}", masked, headers={"If-Match": 'W/"1"'})
    assert done.status_code == 200, done.text
    assert done.json()["meta"]["security"] == labels  # as written, display included
    first = patient.get(f"DocumentReference/{created['id']}/_history/1").json()
    assert first == created
    retagged = {**created, "meta": {**created["meta"], "versionId": "2", "tag": []}}
    refused = patient.put(f"DocumentReference/{created['id']}", retagged)
    assert (refused.status_code, first_expression(refused.json())) == (422, "DocumentReference.meta.tag")


codes = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=8)
concept = st.fixed_dictionaries(
    {
        "coding": st.lists(
            st.fixed_dictionaries({"system": st.just("urn:oid:1.2.3"), "code": codes}), min_size=1, max_size=2
        )
    }
)
words = st.text(alphabet="abcdefghij éèà", min_size=1, max_size=20).map(str.strip).filter(bool)
instants = st.sampled_from(["2026-01-05T10:20:30+01:00", "2025-12-31T23:59:00Z", "2024-06-01T06:00:00.123+02:00"])
labels = st.sampled_from(["U", "L", "M", "N", "R", "V", "X"]).map(
    lambda code: {"coding": [{"system": V3_CONFIDENTIALITY, "code": code}]}
)
optional: dict[str, st.SearchStrategy[Any]] = {
    "docStatus": st.sampled_from(["preliminary", "final", "amended", "entered-in-error"]),
    "date": instants,
    "authenticator": st.just({"reference": "Organization/f001"}),
    "custodian": st.fixed_dictionaries({"display": words}),
    "securityLabel": st.lists(labels, min_size=1, max_size=2),
    "identifier": st.lists(
        st.fixed_dictionaries({"system": st.just(URI), "value": codes.map("urn:x:".__add__)}), min_size=1, max_size=2
    ),
    "author": st.lists(st.fixed_dictionaries({"display": words}), min_size=1, max_size=2),
}
context_optional: dict[str, st.SearchStrategy[Any]] = {
    "event": st.lists(concept, min_size=1, max_size=2),
    "facilityType": concept,
    "practiceSetting": concept,
    "period": st.fixed_dictionaries(
        {"start": st.one_of(instants, st.sampled_from(["2026-02", "2025", "2026-02-03"]))}, optional={"end": instants}
    ),
    "encounter": st.just([{"reference": "Encounter/x"}]),
    "related": st.lists(
        st.fixed_dictionaries({"identifier": st.fixed_dictionaries({"system": st.just(URI), "value": codes})}),
        min_size=1,
        max_size=2,
    ),
}
additions = st.fixed_dictionaries(
    {}, optional={**optional, "context": st.fixed_dictionaries({}, optional=context_optional)}
)
attachment_optional = st.fixed_dictionaries(
    {}, optional={"language": st.sampled_from(["fr-FR", "en"]), "creation": instants, "title": words}
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(added=additions, attached=attachment_optional, format_code=st.booleans())
def test_random_mhd_metadata_reads_back_exactly_or_is_refused_naming_the_element(
    opened: Opened, added: dict[str, Any], attached: dict[str, Any], format_code: bool
) -> None:
    sent = document(opened.patient_id)
    sent.update(added)
    sent["content"][0]["attachment"].update(attached)
    if format_code:
        sent["content"][0]["format"] = {
            "system": "urn:oid:1.3.6.1.4.1.19376.1.2.3",
            "code": "urn:ihe:iti:xds:2017:mimeTypeSufficient",
        }
    answer = opened.doctor.post("DocumentReference", sent)
    if answer.status_code >= 400:
        assert answer.status_code < 500, answer.text
        expression = first_expression(answer.json())
        assert expression.startswith("DocumentReference."), answer.text
        event(f"refused: {expression.split('[')[0]}")
        return
    event("kept")
    assert answer.status_code == 201, answer.text
    read = opened.doctor.get(f"DocumentReference/{answer.json()['id']}").json()
    assert read == answer.json()
    assert as_sent(read, sent) == without_data(sent)


def test_a_decimal_in_a_document_keeps_its_digits(opened: Opened) -> None:
    """A writer's extension with a decimal: stored and read as written (66.90, not 66.9, and never a 500)."""
    sent = document(
        opened.patient_id,
        extension=[{"url": "https://editeur.example/fhir/poids-a-la-consultation", "valueDecimal": 66.9}],
    )
    text = dumps(sent).replace('"valueDecimal":66.9', '"valueDecimal":66.90')
    headers = opened.doctor.headers({"Content-Type": "application/fhir+json"})
    created = opened.doctor.client.post("/fhir/DocumentReference", content=text.encode(), headers=headers)
    assert created.status_code == 201, created.text
    read = opened.doctor.client.get(f"/fhir/DocumentReference/{created.json()['id']}", headers=opened.doctor.headers())
    assert b'"valueDecimal":66.90' in read.content, read.text
