"""The profile's forms: what the patient fills in, and the FHIR resource each form writes (pure).

A form builds the resource and nothing more: the profile service validates it against the FHIR R4 models and
stores it as written, exactly as for a resource the FHIR API receives. The service names the element that
fails (its `expression`); `field_of` turns that back into the form's field, so the message is shown beside it.
What a patient types is written as typed: a number keeps its digits, a weight its unit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from carnet.fhir.codes import LOINC, UCUM
from carnet.fhir.wire import WrittenNumber
from carnet.portal.messages import N_
from carnet.records.profile_legacy import EXT_FIELD
from carnet.records.profile_types import KIND_SYSTEM

Values = Mapping[str, str]
Resource = dict[str, Any]
Input = Literal["text", "date", "number", "textarea", "choice", "tel"]
CLINICAL = "http://terminology.hl7.org/CodeSystem/"
DECIMAL = re.compile(r"^[0-9]+([.,][0-9]+)?$")
PHONE = re.compile(r"^\+?[0-9]{6,15}$")
INVALID = {
    "date": N_("Enter a real date, for example 14/03/2024."),
    "number": N_("Enter a number, for example 72.5."),
    "tel": N_("Enter a phone number: digits only, or in international form such as +33612345678."),
    "text": N_("Check what you entered here."),
    "textarea": N_("Check what you entered here."),
    "choice": N_("Choose one of the answers."),
}
IN_THE_FUTURE = N_("This date is in the future.")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    input: Input = "text"
    missing: str | None = None  # the message when a required field is left empty; None: optional
    hint: str | None = None
    choices: tuple[tuple[str, str], ...] = ()
    default: str = ""


@dataclass(frozen=True, slots=True)
class KindForm:
    kind: str
    heading: str
    resource_type: str
    fields: tuple[Field, ...]
    build: Callable[[Values, uuid.UUID], Resource]
    where: Mapping[str, str]  # FHIRPath prefix -> field

    def field_of(self, expression: str | None) -> str:
        """The form field an element of the resource comes from (the longest prefix named), else the first."""
        found = [(len(p), f) for p, f in self.where.items() if expression and expression.startswith(p)]
        return max(found)[1] if found else self.fields[0].name


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


def _measurement(code: str, display: str) -> Callable[[Values, uuid.UUID], Resource]:
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


GROUPS = tuple((g, g) for g in ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"))
WHEN = N_("Since when (optional)")
FORMS = {
    f.kind: f
    for f in (
        KindForm(
            "allergy",
            N_("Add an allergy or an intolerance"),
            "AllergyIntolerance",
            (
                Field(
                    "substance",
                    N_("What you react to"),
                    missing=N_("Enter what you react to."),
                    hint=N_("A medicine, a food, a substance: for example penicillin, peanuts, latex."),
                ),
                Field("reaction", N_("What happens (optional)"), hint=N_("For example hives, swelling, asthma.")),
                Field(
                    "type",
                    N_("Is it an allergy or an intolerance?"),
                    "choice",
                    default="allergy",
                    choices=(("allergy", N_("An allergy")), ("intolerance", N_("An intolerance"))),
                ),
                Field(
                    "certainty",
                    N_("Has a professional confirmed it?"),
                    "choice",
                    default="sure",
                    choices=(("sure", N_("Yes, it is confirmed")), ("unsure", N_("No, not yet"))),
                ),
                Field("since", WHEN, "date"),
            ),
            allergy,
            {
                "AllergyIntolerance.code": "substance",
                "AllergyIntolerance.reaction": "reaction",
                "AllergyIntolerance.onset": "since",
            },
        ),
        KindForm(
            "treatment",
            N_("Add a treatment you take"),
            "MedicationStatement",
            (
                Field("medication", N_("Medicine"), missing=N_("Enter the name of the medicine.")),
                Field("dosage", N_("How you take it (optional)"), hint=N_("For example 1 tablet in the morning.")),
                Field("since", WHEN, "date"),
            ),
            treatment,
            {
                "MedicationStatement.medication": "medication",
                "MedicationStatement.dosage": "dosage",
                "MedicationStatement.effective": "since",
            },
        ),
        KindForm(
            "weight",
            N_("Add your weight"),
            "Observation",
            (
                Field("value", N_("Weight"), "number", missing=N_("Enter your weight.")),
                Field(
                    "unit",
                    N_("Unit"),
                    "choice",
                    default="kg",
                    choices=(("kg", N_("kilograms (kg)")), ("lb", N_("pounds (lb)"))),
                ),
                Field("measured_on", N_("Date of the weighing"), "date", missing=N_("Enter the date of the weighing.")),
            ),
            _measurement("29463-7", "Body weight"),
            {"Observation.valueQuantity": "value", "Observation.effective": "measured_on"},
        ),
        KindForm(
            "height",
            N_("Add your height"),
            "Observation",
            (
                Field("value", N_("Height"), "number", missing=N_("Enter your height.")),
                Field(
                    "unit",
                    N_("Unit"),
                    "choice",
                    default="cm",
                    choices=(("cm", N_("centimetres (cm)")), ("in", N_("inches (in)"))),
                ),
                Field(
                    "measured_on",
                    N_("Date of the measurement"),
                    "date",
                    missing=N_("Enter the date of the measurement."),
                ),
            ),
            _measurement("8302-2", "Body height"),
            {"Observation.valueQuantity": "value", "Observation.effective": "measured_on"},
        ),
        KindForm(
            "vaccination",
            N_("Add a vaccination"),
            "Immunization",
            (
                Field(
                    "vaccine",
                    N_("Vaccine"),
                    missing=N_("Enter the name of the vaccine."),
                    hint=N_("As written in your vaccination booklet."),
                ),
                Field(
                    "administered_on",
                    N_("Date of the injection"),
                    "date",
                    missing=N_("Enter the date of the injection."),
                ),
                Field("lot", N_("Batch number (optional)")),
            ),
            vaccination,
            {
                "Immunization.vaccineCode": "vaccine",
                "Immunization.occurrence": "administered_on",
                "Immunization.lotNumber": "lot",
            },
        ),
        KindForm(
            "advance_directive",
            N_("Write your advance directives"),
            "Basic",
            (
                Field(
                    "text",
                    N_("Your wishes"),
                    "textarea",
                    missing=N_("Write your wishes."),
                    hint=N_(
                        "What you want, or do not want, for your care at the end of life if you can no "
                        "longer say it yourself."
                    ),
                ),
                Field("written_on", N_("Date written"), "date", missing=N_("Enter the date you wrote them.")),
                Field(
                    "trusted_person",
                    N_("Your trusted person (optional)"),
                    hint=N_("The person doctors will ask if you cannot express yourself."),
                ),
            ),
            directive,
            {"Basic.created": "written_on", "Basic.extension": "text"},
        ),
        KindForm(
            "organ_donation",
            N_("Say your choice about organ donation"),
            "Basic",
            (
                Field(
                    "choice",
                    N_("Your choice"),
                    "choice",
                    missing=N_("Choose one of the answers."),
                    choices=(
                        ("accepts", N_("I accept to donate my organs")),
                        ("refuses", N_("I refuse to donate my organs")),
                    ),
                ),
                Field("note", N_("Something to add (optional)"), "textarea"),
            ),
            donation,
            {"Basic.extension": "choice"},
        ),
        KindForm(
            "emergency_contact",
            N_("Add a person to contact in an emergency"),
            "RelatedPerson",
            (
                Field("name", N_("Name"), missing=N_("Enter the person's name.")),
                Field(
                    "relation",
                    N_("Who they are for you"),
                    missing=N_("Say who this person is for you."),
                    hint=N_("For example daughter, neighbour, husband."),
                ),
                Field("phone", N_("Phone number"), "tel", missing=N_("Enter a phone number.")),
            ),
            contact,
            {"RelatedPerson.name": "name", "RelatedPerson.relationship": "relation", "RelatedPerson.telecom": "phone"},
        ),
        KindForm(
            "medical_history",
            N_("Add an illness or a health problem"),
            "Condition",
            (
                Field(
                    "condition",
                    N_("Illness or health problem"),
                    missing=N_("Enter the illness or the problem."),
                    hint=N_("For example asthma, diabetes, high blood pressure."),
                ),
                Field(
                    "ongoing",
                    N_("Is it still going on?"),
                    "choice",
                    default="yes",
                    choices=(("yes", N_("Yes")), ("no", N_("No, it is over"))),
                ),
                Field("since", WHEN, "date"),
                Field("note", N_("Something to add (optional)"), "textarea"),
            ),
            condition,
            {"Condition.code": "condition", "Condition.onset": "since", "Condition.note": "note"},
        ),
        KindForm(
            "surgical_history",
            N_("Add an operation"),
            "Procedure",
            (
                Field(
                    "procedure",
                    N_("Operation"),
                    missing=N_("Enter the operation."),
                    hint=N_("For example appendix removed, knee replacement."),
                ),
                Field("performed_on", N_("Date of the operation (optional)"), "date"),
                Field("note", N_("Something to add (optional)"), "textarea"),
            ),
            operation,
            {"Procedure.code": "procedure", "Procedure.performed": "performed_on", "Procedure.note": "note"},
        ),
        KindForm(
            "family_history",
            N_("Add an illness in your family"),
            "FamilyMemberHistory",
            (
                Field(
                    "relation",
                    N_("Who in your family"),
                    missing=N_("Say who in your family."),
                    hint=N_("For example mother, brother, grandfather."),
                ),
                Field("condition", N_("Illness"), missing=N_("Enter the illness.")),
            ),
            family,
            {"FamilyMemberHistory.relationship": "relation", "FamilyMemberHistory.condition": "condition"},
        ),
        KindForm(
            "blood_pressure",
            N_("Add your blood pressure"),
            "Observation",
            (
                Field(
                    "systolic",
                    N_("Higher number (systolic), in mmHg"),
                    "number",
                    missing=N_("Enter the higher number."),
                    hint=N_("For example 120."),
                ),
                Field(
                    "diastolic",
                    N_("Lower number (diastolic), in mmHg"),
                    "number",
                    missing=N_("Enter the lower number."),
                    hint=N_("For example 80."),
                ),
                Field(
                    "measured_on",
                    N_("Date of the measurement"),
                    "date",
                    missing=N_("Enter the date of the measurement."),
                ),
            ),
            blood_pressure,
            {
                "Observation.component[0]": "systolic",
                "Observation.component[1]": "diastolic",
                "Observation.effective": "measured_on",
            },
        ),
        KindForm(
            "blood_group",
            N_("Add your blood group"),
            "Observation",
            (
                Field(
                    "group",
                    N_("Your blood group"),
                    "choice",
                    missing=N_("Choose your blood group."),
                    hint=N_("As written on your blood group card."),
                    choices=GROUPS,
                ),
            ),
            blood_group,
            {"Observation.value": "group"},
        ),
    )
}
# Which section of the profile page offers which forms.
ADD_LINKS = {
    "allergies": ("allergy",),
    "history": ("medical_history", "surgical_history", "family_history"),
    "treatments": ("treatment",),
    "vaccinations": ("vaccination",),
    "blood-group": ("blood_group",),
    "measurements": ("weight", "height", "blood_pressure"),
    "directives": ("advance_directive",),
    "organ-donation": ("organ_donation",),
    "contacts": ("emergency_contact",),
}


def precheck(form: KindForm, values: Values) -> dict[str, str]:
    """What the form itself can say before the service sees it: a required field left empty, a bad phone."""
    problems: dict[str, str] = {}
    for f in form.fields:
        value = values.get(f.name, "")
        if f.missing and not value:
            problems[f.name] = f.missing
        elif f.choices and value and value not in dict(f.choices):
            problems[f.name] = INVALID["choice"]
        elif f.input == "tel" and value and not PHONE.match(re.sub(r"[\s.\-()]", "", value)):
            problems[f.name] = INVALID["tel"]
    return problems
