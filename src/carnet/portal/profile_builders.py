"""The resources the profile's forms write, and the form values an entry written that way reads back as (pure).

A builder writes what the patient typed as typed: a number keeps its digits (a comma is a decimal point), a
weight its unit, a date its precision; what is not a number or a date goes as typed, for the FHIR schema to
refuse and name. `values_of` reads a patient's own entry back into its form, to change it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from carnet.fhir.codes import LOINC, UCUM
from carnet.fhir.wire import WrittenNumber
from carnet.records.profile_legacy import EXT_FIELD, PROFESSION_SYSTEM
from carnet.records.profile_types import KIND_SYSTEM

Values = Mapping[str, str]
Resource = dict[str, Any]
CLINICAL = "http://terminology.hl7.org/CodeSystem/"
DECIMAL = re.compile(r"^[0-9]+([.,][0-9]+)?$")


def _status(system: str, code: str) -> Resource:
    return {"coding": [{"system": f"{CLINICAL}{system}", "code": code}]}


def _number(text: str) -> Any:
    """A number as typed (a comma is a decimal point); anything else goes as typed, for the schema to refuse."""
    compact = text.strip().replace(" ", "")
    if DECIMAL.match(compact):
        written = compact.replace(",", ".")
        return WrittenNumber(written) if "." in written else int(written)
    return compact


def _patient(patient_id: uuid.UUID) -> Resource:
    return {"reference": f"Patient/{patient_id}"}


def _optional(resource: Resource) -> Resource:
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def allergy(v: Values, patient_id: uuid.UUID) -> Resource:
    return _optional(
        {
            "resourceType": "AllergyIntolerance",
            "clinicalStatus": _status("allergyintolerance-clinical", "active"),
            "verificationStatus": _status(
                "allergyintolerance-verification", "unconfirmed" if v.get("certainty") == "unsure" else "confirmed"
            ),
            "type": "intolerance" if v.get("type") == "intolerance" else "allergy",
            "code": {"text": v["substance"]},
            "patient": _patient(patient_id),
            "onsetDateTime": v.get("since"),
            "reaction": [{"manifestation": [{"text": v["reaction"]}]}] if v.get("reaction") else None,
        }
    )


def no_known_allergy(v: Values, patient_id: uuid.UUID) -> Resource:
    """SNOMED CT's "no known allergy" finding: the patient has none (it reads as that, never as an allergy)."""
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": _status("allergyintolerance-clinical", "active"),
        "verificationStatus": _status("allergyintolerance-verification", "confirmed"),
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "716186003", "display": "No known allergy"}]},
        "patient": _patient(patient_id),
    }


def treatment(v: Values, patient_id: uuid.UUID) -> Resource:
    return _optional(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": {"text": v["medication"]},
            "subject": _patient(patient_id),
            "effectivePeriod": {"start": v["since"]} if v.get("since") else None,
            "dosage": [{"text": v["dosage"]}] if v.get("dosage") else None,
        }
    )


UNITS = {"kg": ("kg", "kg"), "lb": ("lb", "[lb_av]"), "cm": ("cm", "cm"), "in": ("in", "[in_i]")}


def measurement(code: str, display: str) -> Callable[[Values, uuid.UUID], Resource]:
    def build(v: Values, patient_id: uuid.UUID) -> Resource:
        unit, ucum = UNITS.get(v.get("unit", ""), (v.get("unit", ""), v.get("unit", "")))
        return {
            "resourceType": "Observation",
            "status": "final",
            "category": [_status("observation-category", "vital-signs")],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": _patient(patient_id),
            "effectiveDateTime": v["measured_on"],
            "valueQuantity": {"value": _number(v["value"]), "unit": unit, "system": UCUM, "code": ucum},
        }

    return build


def vaccination(v: Values, patient_id: uuid.UUID) -> Resource:
    return _optional(
        {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"text": v["vaccine"]},
            "patient": _patient(patient_id),
            "occurrenceDateTime": v["administered_on"],
            "lotNumber": v.get("lot"),
        }
    )


def _basic(kind: str, v: Values, patient_id: uuid.UUID, names: tuple[str, ...], created: str | None) -> Resource:
    fields = [{"url": f"{EXT_FIELD}{n}", "valueString": v[n]} for n in names if v.get(n)]
    return _optional(
        {
            "resourceType": "Basic",
            "extension": fields,
            "code": {"coding": [{"system": KIND_SYSTEM, "code": kind}]},
            "subject": _patient(patient_id),
            "created": created,
        }
    )


def directive(v: Values, patient_id: uuid.UUID) -> Resource:
    names = ("text", "written_on", "trusted_person")
    return _basic("advance_directive", v, patient_id, names, v.get("written_on"))


def donation(v: Values, patient_id: uuid.UUID) -> Resource:
    return _basic("organ_donation", v, patient_id, ("choice", "note"), None)


def contact(v: Values, patient_id: uuid.UUID) -> Resource:
    return {
        "resourceType": "RelatedPerson",
        "active": True,
        "patient": _patient(patient_id),
        "relationship": [{"text": v["relation"]}],
        "name": [{"text": v["name"]}],
        "telecom": [{"system": "phone", "value": re.sub(r"[\s.\-()]", "", v["phone"])}],
    }


def professional(v: Values, patient_id: uuid.UUID) -> Resource:
    """One of the patient's own professionals, as a CareTeam of one, its profession by its national code."""
    role = _optional({"coding": [{"system": PROFESSION_SYSTEM, "code": v["profession"]}], "text": v.get("role")})
    return _optional(
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": _patient(patient_id),
            "participant": [{"role": [role], "member": {"display": v["name"]}}],
            "telecom": [{"system": "phone", "value": re.sub(r"[\s.\-()]", "", v["phone"])}] if v.get("phone") else None,
        }
    )


def condition(v: Values, patient_id: uuid.UUID) -> Resource:
    return _optional(
        {
            "resourceType": "Condition",
            "clinicalStatus": _status("condition-clinical", "resolved" if v.get("ongoing") == "no" else "active"),
            "code": {"text": v["condition"]},
            "subject": _patient(patient_id),
            "onsetDateTime": v.get("since"),
            "note": [{"text": v["note"]}] if v.get("note") else None,
        }
    )


def operation(v: Values, patient_id: uuid.UUID) -> Resource:
    return _optional(
        {
            "resourceType": "Procedure",
            "status": "completed",
            "code": {"text": v["procedure"]},
            "subject": _patient(patient_id),
            "performedDateTime": v.get("performed_on"),
            "note": [{"text": v["note"]}] if v.get("note") else None,
        }
    )


def family(v: Values, patient_id: uuid.UUID) -> Resource:
    return {
        "resourceType": "FamilyMemberHistory",
        "status": "completed",
        "patient": _patient(patient_id),
        "relationship": {"text": v["relation"]},
        "condition": [{"code": {"text": v["condition"]}}],
    }


def _pressure(code: str, value: str) -> Resource:
    return {
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "valueQuantity": {"value": _number(value), "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
    }


def blood_pressure(v: Values, patient_id: uuid.UUID) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_status("observation-category", "vital-signs")],
        "code": {"coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}]},
        "subject": _patient(patient_id),
        "effectiveDateTime": v["measured_on"],
        "component": [_pressure("8480-6", v["systolic"]), _pressure("8462-4", v["diastolic"])],
    }


def blood_group(v: Values, patient_id: uuid.UUID) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [_status("observation-category", "laboratory")],
        "code": {"coding": [{"system": LOINC, "code": "882-1", "display": "ABO and Rh group [Type] in Blood"}]},
        "subject": _patient(patient_id),
        "valueCodeableConcept": {"text": v["group"]},
    }


# Where each field of a form is in the resource it wrote, and the codes a choice stands for.
READS: dict[str, dict[str, str]] = {
    "allergy": {
        "substance": "code.text",
        "reaction": "reaction.0.manifestation.0.text",
        "type": "type",
        "certainty": "verificationStatus.coding.0.code",
        "since": "onsetDateTime",
    },
    "treatment": {
        "medication": "medicationCodeableConcept.text",
        "dosage": "dosage.0.text",
        "since": "effectivePeriod.start",
    },
    "weight": {"value": "valueQuantity.value", "unit": "valueQuantity.unit", "measured_on": "effectiveDateTime"},
    "height": {"value": "valueQuantity.value", "unit": "valueQuantity.unit", "measured_on": "effectiveDateTime"},
    "vaccination": {"vaccine": "vaccineCode.text", "administered_on": "occurrenceDateTime", "lot": "lotNumber"},
    "advance_directive": {"text": "ext:text", "written_on": "ext:written_on", "trusted_person": "ext:trusted_person"},
    "organ_donation": {"choice": "ext:choice", "note": "ext:note"},
    "emergency_contact": {"name": "name.0.text", "relation": "relationship.0.text", "phone": "telecom.0.value"},
    "medical_history": {
        "condition": "code.text",
        "ongoing": "clinicalStatus.coding.0.code",
        "since": "onsetDateTime",
        "note": "note.0.text",
    },
    "surgical_history": {"procedure": "code.text", "performed_on": "performedDateTime", "note": "note.0.text"},
    "family_history": {"relation": "relationship.text", "condition": "condition.0.code.text"},
    "blood_pressure": {
        "systolic": "component.0.valueQuantity.value",
        "diastolic": "component.1.valueQuantity.value",
        "measured_on": "effectiveDateTime",
    },
    "blood_group": {"group": "valueCodeableConcept.text"},
    "care_team": {
        "name": "participant.0.member.display",
        "profession": "participant.0.role.0.coding.0.code",
        "role": "participant.0.role.0.text",
        "phone": "telecom.0.value",
    },
}
CHOICES = {"certainty": {"confirmed": "sure", "unconfirmed": "unsure"}, "ongoing": {"active": "yes", "resolved": "no"}}


def _read(resource: Mapping[str, Any], path: str) -> str:
    if path.startswith("ext:"):
        for extension in resource.get("extension") or []:
            if isinstance(extension, Mapping) and extension.get("url") == f"{EXT_FIELD}{path[4:]}":
                return str(extension.get("valueString") or "")
        return ""
    value: Any = resource
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        else:
            value = value.get(part) if isinstance(value, Mapping) else None
    if value is None or isinstance(value, dict | list):
        return ""
    return value.text if isinstance(value, WrittenNumber) else str(value)


def values_of(kind: str, resource: Mapping[str, Any]) -> dict[str, str]:
    """The form's values an entry of this kind reads back as; empty for a kind no form writes."""
    values = {name: _read(resource, path) for name, path in READS.get(kind, {}).items()}
    for name, codes in CHOICES.items():
        if name in values:
            values[name] = codes.get(values[name], "")
    return values
