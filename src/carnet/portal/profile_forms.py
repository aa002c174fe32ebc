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
from typing import Literal

from carnet.portal.messages import N_
from carnet.portal.profile_builders import (
    Resource,
    Values,
    allergy,
    blood_group,
    blood_pressure,
    condition,
    contact,
    directive,
    donation,
    family,
    measurement,
    no_known_allergy,
    operation,
    professional,
    treatment,
    vaccination,
)

Input = Literal["text", "date", "number", "textarea", "choice", "tel"]
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


GROUPS = tuple((g, g) for g in ("A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"))
WHEN = N_("Since when (optional)")
# The professions a patient most often names, by their national code (kit/professions.py).
PROFESSION_CHOICES = (
    ("10", N_("Doctor")),
    ("21", N_("Pharmacist")),
    ("40", N_("Dentist")),
    ("50", N_("Midwife")),
    ("60", N_("Nurse")),
    ("70", N_("Physiotherapist")),
    ("93", N_("Psychologist")),
)
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
            "no_known_allergy",
            N_("Say that you have no known allergy"),
            "AllergyIntolerance",
            (
                Field(
                    "confirm",
                    N_("Do you know of any allergy or intolerance you have?"),
                    "choice",
                    missing=N_("Confirm that you know of no allergy."),
                    choices=(("none", N_("No, I know of no allergy or intolerance")),),
                ),
            ),
            no_known_allergy,
            {},
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
            measurement("29463-7", "Body weight"),
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
            measurement("8302-2", "Body height"),
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
        KindForm(
            "care_team",
            N_("Add one of your professionals"),
            "CareTeam",
            (
                Field(
                    "name", N_("Name"), missing=N_("Enter the professional's name."), hint=N_("For example Dr Martin.")
                ),
                Field(
                    "profession",
                    N_("Their profession"),
                    "choice",
                    missing=N_("Choose the profession."),
                    choices=PROFESSION_CHOICES,
                ),
                Field(
                    "role",
                    N_("Speciality or role (optional)"),
                    hint=N_("For example cardiologist, dentist at the health centre."),
                ),
                Field("phone", N_("Phone number (optional)"), "tel"),
            ),
            professional,
            {"CareTeam.participant": "name", "CareTeam.telecom": "phone"},
        ),
    )
}
# Which section of the profile page offers which forms.
ADD_LINKS = {
    "allergies": ("allergy", "no_known_allergy"),
    "history": ("medical_history", "surgical_history", "family_history"),
    "treatments": ("treatment",),
    "vaccinations": ("vaccination",),
    "blood-group": ("blood_group",),
    "measurements": ("weight", "height", "blood_pressure"),
    "directives": ("advance_directive",),
    "organ-donation": ("organ_donation",),
    "contacts": ("emergency_contact",),
    "professionals": ("care_team",),
}


# What a professional writes, by section of the summary (the patient writes the others).
PRO_KINDS = {
    "allergies": ("allergy",),
    "history": ("medical_history", "surgical_history", "family_history"),
    "treatments": ("treatment",),
    "vaccinations": ("vaccination",),
    "blood-group": ("blood_group",),
    "measurements": ("weight", "height", "blood_pressure"),
}
PRO_FORM_KINDS = frozenset(kind for kinds in PRO_KINDS.values() for kind in kinds)
# The forms speak to the patient; to a professional they speak of the patient.
PRO_WORDS = {
    "What you react to": N_("What the patient reacts to"),
    "Enter what you react to.": N_("Enter what the patient reacts to."),
    "Add an illness in your family": N_("Add an illness in the patient's family"),
    "Who in your family": N_("Who in the patient's family"),
    "Say who in your family.": N_("Say who in the patient's family."),
    "Add a treatment you take": N_("Add a treatment the patient takes"),
    "How you take it (optional)": N_("How it is taken (optional)"),
    "As written in your vaccination booklet.": N_("As written in the vaccination booklet."),
    "Add your blood group": N_("Add the patient's blood group"),
    "Your blood group": N_("The patient's blood group"),
    "As written on your blood group card.": N_("As written on the blood group card."),
    "Choose your blood group.": N_("Choose the patient's blood group."),
    "Add your weight": N_("Add the patient's weight"),
    "Enter your weight.": N_("Enter the patient's weight."),
    "Add your height": N_("Add the patient's height"),
    "Enter your height.": N_("Enter the patient's height."),
    "Add your blood pressure": N_("Add the patient's blood pressure"),
    "Your professionals": N_("The patient's professionals"),
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
