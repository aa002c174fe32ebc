"""The medical profile as FHIR resources: each resource type is one or more profile entry kinds (pure mapping).

AllergyIntolerance: allergy. Condition: medical_history. Observation: blood_group (LOINC 882-1), weight
(29463-7), height (8302-2), blood_pressure (85354-9 with 8480-6 and 8462-4). MedicationStatement: treatment.
MedicationRequest: prescription. MedicationDispense: dispensation. Immunization: vaccination.
RelatedPerson: emergency_contact. Procedure: surgical_history. FamilyMemberHistory: family_history.
CareTeam: care_team. Basic: advance_directive and organ_donation (their fields as extensions).
An entry's source class (the class of the document it comes from) travels in the extension source-class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from carnet.fhir.codes import CARNET, CLASS_SYSTEM, EXT_SOURCE_CLASS, LOINC, UCUM
from carnet.fhir.ids import item_id
from carnet.fhir.wire import Resource
from carnet.kit.errors import Invalid
from carnet.records.schemas import ProfileEntryView

Payload = dict[str, Any]
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
KIND_SYSTEM = f"{CARNET}/CodeSystem/profile-kind"
EXT_FIELD = f"{CARNET}/StructureDefinition/profile-field-"
CLINICAL = "http://terminology.hl7.org/CodeSystem/"
OBSERVATIONS = {"882-1": "blood_group", "29463-7": "weight", "8302-2": "height", "85354-9": "blood_pressure"}
LOINC_OF = {kind: code for code, kind in OBSERVATIONS.items()}
DISPLAY = {
    "882-1": "ABO and Rh group [Type] in Blood",
    "29463-7": "Body weight",
    "8302-2": "Body height",
    "85354-9": "Blood pressure panel",
}


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _text(concept: Any, where: str) -> str:
    """A CodeableConcept's words: its text, or its first coding's display."""
    if concept is not None:
        if concept.text:
            return str(concept.text)
        for coding in concept.coding or []:
            if coding.display:
                return str(coding.display)
    raise Invalid(f"{where} needs text (or a coding with a display).", code="missing-text")


def _first(items: Any) -> Any:
    return items[0] if items else None


def _clean(resource: Resource) -> Resource:
    return {k: v for k, v in resource.items() if v not in (None, [], {})}


def _status(system: str, code: str) -> Resource:
    return {"coding": [{"system": f"{CLINICAL}{system}", "code": code}]}


def allergy_to(e: ProfileEntryView, p: Payload) -> Resource:
    reaction = None
    if p.get("reaction") or p.get("severity"):
        reaction = [_clean({"manifestation": [{"text": p.get("reaction") or "—"}], "severity": p.get("severity")})]
    return {
        "clinicalStatus": _status("allergyintolerance-clinical", "active" if e.status == "active" else "inactive"),
        "type": "intolerance" if p["intolerance_only"] else "allergy",
        "code": {"text": p["substance"]},
        "onsetDateTime": p.get("since"),
        "reaction": reaction,
    }


def allergy_from(r: Any) -> Payload:
    reaction = _first(r.reaction)
    manifestation = _first(reaction.manifestation) if reaction else None
    return {
        "kind": "allergy",
        "substance": _text(r.code, "AllergyIntolerance.code"),
        "reaction": manifestation.text if manifestation and manifestation.text != "—" else None,
        "severity": reaction.severity if reaction else None,
        "intolerance_only": r.type == "intolerance",
        "since": _day(r.onsetDateTime),
    }


def condition_to(e: ProfileEntryView, p: Payload) -> Resource:
    status = "inactive" if e.status != "active" else "resolved" if p.get("resolved") else "active"
    return {
        "clinicalStatus": _status("condition-clinical", status),
        "category": [_status("condition-category", "problem-list-item")],
        "code": {"text": p["condition"]},
        "onsetDateTime": p.get("since"),
        "abatementDateTime": p.get("resolved"),
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def condition_from(r: Any) -> Payload:
    note = _first(r.note)
    return {
        "kind": "medical_history",
        "condition": _text(r.code, "Condition.code"),
        "since": _day(r.onsetDateTime),
        "resolved": _day(r.abatementDateTime),
        "note": note.text if note else None,
    }


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation_to(e: ProfileEntryView, p: Payload) -> Resource:
    code = LOINC_OF[e.kind]
    resource: Resource = {
        "status": "final" if e.status == "active" else "cancelled",
        "category": [_status("observation-category", "laboratory" if e.kind == "blood_group" else "vital-signs")],
        "code": {"coding": [{"system": LOINC, "code": code, "display": DISPLAY[code]}]},
        "effectiveDateTime": p.get("measured_on"),
    }
    if e.kind == "blood_group":
        resource["valueCodeableConcept"] = {"text": p["group"]}
    elif e.kind == "weight":
        resource["valueQuantity"] = _quantity(p["kilograms"], "kg")
    elif e.kind == "height":
        resource["valueQuantity"] = _quantity(p["centimetres"], "cm")
    else:
        resource["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                "valueQuantity": _quantity(p["systolic_mmhg"], "mm[Hg]"),
            },
            {
                "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                "valueQuantity": _quantity(p["diastolic_mmhg"], "mm[Hg]"),
            },
        ]
    return resource


def observation_from(r: Any) -> Payload:
    codes = [c.code for c in (r.code.coding or []) if c.system == LOINC]
    kind = next((OBSERVATIONS[c] for c in codes if c in OBSERVATIONS), None)
    if kind is None:
        raise Invalid(
            f"Carnet keeps these observations (LOINC): {', '.join(OBSERVATIONS)}.", code="unknown-observation"
        )
    when = _day(r.effectiveDateTime)
    if kind == "blood_group":
        return {"kind": kind, "group": _text(r.valueCodeableConcept, "Observation.valueCodeableConcept")}
    if kind == "blood_pressure":
        parts = {
            c.code.coding[0].code: c.valueQuantity.value
            for c in (r.component or [])
            if c.valueQuantity and c.code.coding
        }
        return {
            "kind": kind,
            "systolic_mmhg": parts.get("8480-6"),
            "diastolic_mmhg": parts.get("8462-4"),
            "measured_on": when,
        }
    field = "kilograms" if kind == "weight" else "centimetres"
    return {"kind": kind, field: r.valueQuantity.value if r.valueQuantity else None, "measured_on": when}


def statement_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "active" if e.status == "active" else "stopped",
        "medicationCodeableConcept": {"text": p["medication"]},
        "effectivePeriod": _clean({"start": p.get("since"), "end": p.get("until")}) or None,
        "dosage": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "informationSource": {"display": p["prescriber"]} if p.get("prescriber") else None,
    }


def statement_from(r: Any) -> Payload:
    period, dosage = r.effectivePeriod, _first(r.dosage)
    return {
        "kind": "treatment",
        "medication": _text(r.medicationCodeableConcept, "MedicationStatement.medicationCodeableConcept"),
        "since": _day(period.start) if period else None,
        "until": _day(period.end) if period else None,
        "dosage": dosage.text if dosage else None,
        "prescriber": r.informationSource.display if r.informationSource else None,
    }


def request_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "active" if e.status == "active" else "cancelled",
        "intent": "order",
        "medicationCodeableConcept": {"text": p["medication"]},
        "authoredOn": p["prescribed_on"],
        "dosageInstruction": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "requester": {"display": p["prescriber"]} if p.get("prescriber") else None,
        "dispenseRequest": {"quantity": {"value": p["quantity"]}} if p.get("quantity") else None,
    }


def request_from(r: Any) -> Payload:
    dosage, dispense = _first(r.dosageInstruction), r.dispenseRequest
    return {
        "kind": "prescription",
        "medication": _text(r.medicationCodeableConcept, "MedicationRequest.medicationCodeableConcept"),
        "prescribed_on": _day(r.authoredOn),
        "dosage": dosage.text if dosage else None,
        "prescriber": r.requester.display if r.requester else None,
        "quantity": int(dispense.quantity.value) if dispense and dispense.quantity else None,
    }


def dispense_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "medicationCodeableConcept": {"text": p["medication"]},
        "whenHandedOver": p["dispensed_on"],
        "quantity": {"value": p["quantity"]} if p.get("quantity") else None,
        "dosageInstruction": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "performer": [{"actor": {"display": p["dispenser"]}}] if p.get("dispenser") else None,
    }


def dispense_from(r: Any) -> Payload:
    dosage, performer = _first(r.dosageInstruction), _first(r.performer)
    return {
        "kind": "dispensation",
        "medication": _text(r.medicationCodeableConcept, "MedicationDispense.medicationCodeableConcept"),
        "dispensed_on": _day(r.whenHandedOver),
        "quantity": int(r.quantity.value) if r.quantity and r.quantity.value else None,
        "dosage": dosage.text if dosage else None,
        "dispenser": performer.actor.display if performer else None,
    }


def immunization_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "vaccineCode": {"text": p["vaccine"]},
        "occurrenceDateTime": p["administered_on"],
        "lotNumber": p.get("lot"),
        "protocolApplied": [{"doseNumberPositiveInt": p["dose"]}] if p.get("dose") else None,
    }


def immunization_from(r: Any) -> Payload:
    protocol = _first(r.protocolApplied)
    return {
        "kind": "vaccination",
        "vaccine": _text(r.vaccineCode, "Immunization.vaccineCode"),
        "administered_on": _day(r.occurrenceDateTime),
        "lot": r.lotNumber,
        "dose": protocol.doseNumberPositiveInt if protocol else None,
    }


def related_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "active": e.status == "active",
        "relationship": [{"text": p["relation"]}],
        "name": [{"text": p["name"]}],
        "telecom": [{"system": "phone", "value": p["phone"]}],
    }


def related_from(r: Any) -> Payload:
    name, phone = _first(r.name), next((t for t in (r.telecom or []) if t.system == "phone"), None)
    return {
        "kind": "emergency_contact",
        "name": (name.text or " ".join([*(name.given or []), name.family or ""]).strip()) if name else None,
        "relation": _text(_first(r.relationship), "RelatedPerson.relationship"),
        "phone": phone.value if phone else None,
    }


def procedure_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "code": {"text": p["procedure"]},
        "performedDateTime": p.get("performed_on"),
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def procedure_from(r: Any) -> Payload:
    note = _first(r.note)
    return {
        "kind": "surgical_history",
        "procedure": _text(r.code, "Procedure.code"),
        "performed_on": _day(r.performedDateTime),
        "note": note.text if note else None,
    }


def family_to(e: ProfileEntryView, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "relationship": {"text": p["relation"]},
        "condition": [{"code": {"text": p["condition"]}}],
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def family_from(r: Any) -> Payload:
    condition, note = _first(r.condition), _first(r.note)
    return {
        "kind": "family_history",
        "relation": _text(r.relationship, "FamilyMemberHistory.relationship"),
        "condition": _text(condition.code if condition else None, "FamilyMemberHistory.condition.code"),
        "note": note.text if note else None,
    }


def care_team_to(e: ProfileEntryView, p: Payload) -> Resource:
    role = _clean({"coding": [{"system": PROFESSION_SYSTEM, "code": p["profession"]}], "text": p.get("role")})
    return {
        "status": "active" if e.status == "active" else "inactive",
        "participant": [{"role": [role], "member": {"display": p["name"]}}],
        "telecom": [{"system": "phone", "value": p["phone"]}] if p.get("phone") else None,
    }


def care_team_from(r: Any) -> Payload:
    participant = _first(r.participant)
    role = _first(participant.role) if participant else None
    codes = [c.code for c in (role.coding or []) if c.system == PROFESSION_SYSTEM] if role else []
    phone = next((t for t in (r.telecom or []) if t.system == "phone"), None)
    return {
        "kind": "care_team",
        "name": participant.member.display if participant and participant.member else None,
        "profession": codes[0] if codes else None,
        "role": role.text if role else None,
        "phone": phone.value if phone else None,
    }


# Advance directives and the organ-donation choice have no FHIR resource of their own: Basic, with the
# entry's kind as its code and each field as an extension.
BASIC_KINDS = ("advance_directive", "organ_donation")


def basic_to(e: ProfileEntryView, p: Payload) -> Resource:
    fields = [{"url": f"{EXT_FIELD}{k}", "valueString": str(v)} for k, v in p.items() if k != "kind" and v is not None]
    return {
        "code": {"coding": [{"system": KIND_SYSTEM, "code": e.kind}]},
        "created": e.recorded_at.date().isoformat(),
        "extension": fields,
    }


def basic_from(r: Any) -> Payload:
    kinds = [c.code for c in (r.code.coding or []) if c.system == KIND_SYSTEM]
    if len(kinds) != 1 or kinds[0] not in BASIC_KINDS:
        raise Invalid(f"Basic.code is one of {', '.join(BASIC_KINDS)} ({KIND_SYSTEM}).", code="unknown-kind")
    fields = {e.url.removeprefix(EXT_FIELD): e.valueString for e in r.extension or [] if e.url.startswith(EXT_FIELD)}
    return {"kind": kinds[0], **fields}


@dataclass(frozen=True, slots=True)
class ProfileResource:
    name: str
    kinds: tuple[str, ...]
    default_class: str  # the source class of a professional's entry that names none
    subject: str  # the element naming the patient
    to_fhir: Callable[[ProfileEntryView, Payload], Resource]
    from_fhir: Callable[[Any], Payload]


PROFILE_RESOURCES = {
    r.name: r
    for r in (
        ProfileResource("AllergyIntolerance", ("allergy",), "11", "patient", allergy_to, allergy_from),
        ProfileResource("Condition", ("medical_history",), "11", "subject", condition_to, condition_from),
        ProfileResource(
            "Observation",
            ("blood_group", "weight", "height", "blood_pressure"),
            "10",
            "subject",
            observation_to,
            observation_from,
        ),
        ProfileResource("MedicationStatement", ("treatment",), "44", "subject", statement_to, statement_from),
        ProfileResource("MedicationRequest", ("prescription",), "42", "subject", request_to, request_from),
        ProfileResource("MedicationDispense", ("dispensation",), "43", "subject", dispense_to, dispense_from),
        ProfileResource("Immunization", ("vaccination",), "11", "patient", immunization_to, immunization_from),
        ProfileResource("RelatedPerson", ("emergency_contact",), "11", "patient", related_to, related_from),
        ProfileResource("Procedure", ("surgical_history",), "10", "subject", procedure_to, procedure_from),
        ProfileResource("FamilyMemberHistory", ("family_history",), "11", "patient", family_to, family_from),
        ProfileResource("CareTeam", ("care_team",), "11", "subject", care_team_to, care_team_from),
        ProfileResource("Basic", BASIC_KINDS, "11", "subject", basic_to, basic_from),
    )
}
RESOURCE_OF_KIND = {kind: r for r in PROFILE_RESOURCES.values() for kind in r.kinds}


def profile_resource(entry: ProfileEntryView, patient_id: Any) -> Resource:
    kind = RESOURCE_OF_KIND[entry.kind]
    payload = entry.payload.model_dump(mode="json")
    body = kind.to_fhir(entry, payload)
    return _clean(
        {
            "resourceType": kind.name,
            "id": item_id(patient_id, entry.id),
            "meta": {"lastUpdated": entry.recorded_at.isoformat(timespec="milliseconds")},
            kind.subject: {"reference": f"Patient/{patient_id}"},
            **_clean(body),
            "extension": [
                {"url": EXT_SOURCE_CLASS, "valueCoding": {"system": CLASS_SYSTEM, "code": entry.source_class}},
                *body.get("extension", []),
            ],
        }
    )


def source_class_of(resource: Any) -> str | None:
    for extension in resource.extension or []:
        if extension.url == EXT_SOURCE_CLASS and extension.valueCoding is not None:
            return str(extension.valueCoding.code)
    return None
