"""Profile entries stored before issue 19, as encrypted payloads of Carnet's own schemas (records/profile_kinds).

Until `carnet profile convert` has turned each into the resource it stands for, a read builds that resource
here, exactly as Carnet has always returned it; the conversion stores the same resource, so nothing a reader
saw changes. New entries never come through here: they are stored as the resource received.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from carnet.fhir.codes import CARNET, CLASS_SYSTEM, EXT_SOURCE_CLASS, LOINC, UCUM
from carnet.fhir.ids import item_id
from carnet.records.profile_types import KIND_SYSTEM, TYPE_OF_KIND

Payload = dict[str, Any]
Resource = dict[str, Any]
PROFESSION_SYSTEM = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
EXT_FIELD = f"{CARNET}/StructureDefinition/profile-field-"
CLINICAL = "http://terminology.hl7.org/CodeSystem/"
LOINC_OF = {"blood_group": "882-1", "weight": "29463-7", "height": "8302-2", "blood_pressure": "85354-9"}
DISPLAY = {
    "882-1": "ABO and Rh group [Type] in Blood",
    "29463-7": "Body weight",
    "8302-2": "Body height",
    "85354-9": "Blood pressure panel",
}


@dataclass(frozen=True, slots=True)
class LegacyEntry:
    """The columns of an unconverted entry that its resource depends on."""

    id: uuid.UUID
    kind: str
    source_class: str
    recorded_at: datetime
    status: str


def _day(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:10]


def _clean(resource: Resource) -> Resource:
    return {k: v for k, v in resource.items() if v not in (None, [], {})}


def _status(system: str, code: str) -> Resource:
    return {"coding": [{"system": f"{CLINICAL}{system}", "code": code}]}


def allergy_to(e: LegacyEntry, p: Payload) -> Resource:
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


def condition_to(e: LegacyEntry, p: Payload) -> Resource:
    status = "inactive" if e.status != "active" else "resolved" if p.get("resolved") else "active"
    return {
        "clinicalStatus": _status("condition-clinical", status),
        "category": [_status("condition-category", "problem-list-item")],
        "code": {"text": p["condition"]},
        "onsetDateTime": p.get("since"),
        "abatementDateTime": p.get("resolved"),
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def _quantity(value: float, unit: str) -> Resource:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def observation_to(e: LegacyEntry, p: Payload) -> Resource:
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


def statement_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "active" if e.status == "active" else "stopped",
        "medicationCodeableConcept": {"text": p["medication"]},
        "effectivePeriod": _clean({"start": p.get("since"), "end": p.get("until")}) or None,
        "dosage": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "informationSource": {"display": p["prescriber"]} if p.get("prescriber") else None,
    }


def request_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "active" if e.status == "active" else "cancelled",
        "intent": "order",
        "medicationCodeableConcept": {"text": p["medication"]},
        "authoredOn": p["prescribed_on"],
        "dosageInstruction": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "requester": {"display": p["prescriber"]} if p.get("prescriber") else None,
        "dispenseRequest": {"quantity": {"value": p["quantity"]}} if p.get("quantity") else None,
    }


def dispense_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "medicationCodeableConcept": {"text": p["medication"]},
        "whenHandedOver": p["dispensed_on"],
        "quantity": {"value": p["quantity"]} if p.get("quantity") else None,
        "dosageInstruction": [{"text": p["dosage"]}] if p.get("dosage") else None,
        "performer": [{"actor": {"display": p["dispenser"]}}] if p.get("dispenser") else None,
    }


def immunization_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "vaccineCode": {"text": p["vaccine"]},
        "occurrenceDateTime": p["administered_on"],
        "lotNumber": p.get("lot"),
        "protocolApplied": [{"doseNumberPositiveInt": p["dose"]}] if p.get("dose") else None,
    }


def related_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "active": e.status == "active",
        "relationship": [{"text": p["relation"]}],
        "name": [{"text": p["name"]}],
        "telecom": [{"system": "phone", "value": p["phone"]}],
    }


def procedure_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "code": {"text": p["procedure"]},
        "performedDateTime": p.get("performed_on"),
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def family_to(e: LegacyEntry, p: Payload) -> Resource:
    return {
        "status": "completed" if e.status == "active" else "entered-in-error",
        "relationship": {"text": p["relation"]},
        "condition": [{"code": {"text": p["condition"]}}],
        "note": [{"text": p["note"]}] if p.get("note") else None,
    }


def care_team_to(e: LegacyEntry, p: Payload) -> Resource:
    role = _clean({"coding": [{"system": PROFESSION_SYSTEM, "code": p["profession"]}], "text": p.get("role")})
    return {
        "status": "active" if e.status == "active" else "inactive",
        "participant": [{"role": [role], "member": {"display": p["name"]}}],
        "telecom": [{"system": "phone", "value": p["phone"]}] if p.get("phone") else None,
    }


def basic_to(e: LegacyEntry, p: Payload) -> Resource:
    fields = [{"url": f"{EXT_FIELD}{k}", "valueString": str(v)} for k, v in p.items() if k != "kind" and v is not None]
    return {
        "code": {"coding": [{"system": KIND_SYSTEM, "code": e.kind}]},
        "created": e.recorded_at.date().isoformat(),
        "extension": fields,
    }


TO_FHIR = {
    "allergy": allergy_to,
    "medical_history": condition_to,
    "blood_group": observation_to,
    "weight": observation_to,
    "height": observation_to,
    "blood_pressure": observation_to,
    "treatment": statement_to,
    "prescription": request_to,
    "dispensation": dispense_to,
    "vaccination": immunization_to,
    "emergency_contact": related_to,
    "surgical_history": procedure_to,
    "family_history": family_to,
    "care_team": care_team_to,
    "advance_directive": basic_to,
    "organ_donation": basic_to,
}


def legacy_resource(entry: LegacyEntry, patient_id: uuid.UUID, payload: Payload) -> Resource:
    """The resource an old payload stands for, as Carnet returned it before storing resources."""
    name = TYPE_OF_KIND[entry.kind].name
    body = TO_FHIR[entry.kind](entry, payload)
    return _clean(
        {
            "resourceType": name,
            "id": item_id(patient_id, entry.id),
            "meta": {"lastUpdated": entry.recorded_at.isoformat(timespec="milliseconds")},
            TYPE_OF_KIND[entry.kind].subject: {"reference": f"Patient/{patient_id}"},
            **_clean(body),
            "extension": [
                {"url": EXT_SOURCE_CLASS, "valueCoding": {"system": CLASS_SYSTEM, "code": entry.source_class}},
                *body.get("extension", []),
            ],
        }
    )
