"""The medical profile's entry kinds (SPEC §2), each a validated schema; stored as encrypted JSON."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from carnet.kit import clock
from carnet.kit.professions import PROFESSIONS

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def _not_future(value: date) -> date:
    if value > clock.today():
        raise ValueError("must not be in the future")
    return value


def _phone(value: str) -> str:
    compact = re.sub(r"[\s.\-()]", "", value)
    if not _PHONE.match(compact):
        raise ValueError("must be a phone number (digits, optionally starting with +)")
    return compact


def _profession(value: str) -> str:
    if value not in PROFESSIONS:
        raise ValueError(f"unknown profession code; known: {', '.join(sorted(PROFESSIONS))}")
    return value


PastDate = Annotated[date, AfterValidator(_not_future)]
Phone = Annotated[str, AfterValidator(_phone)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Allergy(_Entry):
    kind: Literal["allergy"] = "allergy"
    substance: Text
    reaction: Text | None = None
    severity: Literal["mild", "moderate", "severe"] | None = None
    intolerance_only: bool = False
    since: PastDate | None = None


class MedicalHistory(_Entry):
    kind: Literal["medical_history"] = "medical_history"
    condition: Text
    since: PastDate | None = None
    resolved: PastDate | None = None
    note: LongText | None = None


class SurgicalHistory(_Entry):
    kind: Literal["surgical_history"] = "surgical_history"
    procedure: Text
    performed_on: PastDate | None = None
    note: LongText | None = None


class FamilyHistory(_Entry):
    kind: Literal["family_history"] = "family_history"
    relation: Text
    condition: Text
    note: LongText | None = None


class Treatment(_Entry):
    kind: Literal["treatment"] = "treatment"
    medication: Text
    dosage: Text | None = None
    since: PastDate | None = None
    until: date | None = None
    prescriber: Text | None = None

    @model_validator(mode="after")
    def _period(self) -> Treatment:
        if self.since and self.until and self.until < self.since:
            raise ValueError("the end of a treatment cannot precede its start")
        return self


class Prescription(_Entry):
    """A medicine prescribed (FHIR MedicationRequest)."""

    kind: Literal["prescription"] = "prescription"
    medication: Text
    prescribed_on: PastDate
    dosage: Text | None = None
    quantity: Annotated[int, Field(ge=1, le=1000)] | None = None  # boxes or units
    prescriber: Text | None = None


class Dispensation(_Entry):
    """A medicine handed over at a pharmacy (FHIR MedicationDispense)."""

    kind: Literal["dispensation"] = "dispensation"
    medication: Text
    dispensed_on: PastDate
    quantity: Annotated[int, Field(ge=1, le=1000)] | None = None
    dosage: Text | None = None
    dispenser: Text | None = None


class Vaccination(_Entry):
    kind: Literal["vaccination"] = "vaccination"
    vaccine: Text
    administered_on: PastDate
    lot: Text | None = None
    dose: Annotated[int, Field(ge=1, le=20)] | None = None


class BloodGroup(_Entry):
    kind: Literal["blood_group"] = "blood_group"
    group: Literal["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]


class Weight(_Entry):
    kind: Literal["weight"] = "weight"
    kilograms: Annotated[float, Field(gt=0.2, lt=500)]
    measured_on: PastDate


class Height(_Entry):
    kind: Literal["height"] = "height"
    centimetres: Annotated[float, Field(gt=20, lt=260)]
    measured_on: PastDate


class BloodPressure(_Entry):
    kind: Literal["blood_pressure"] = "blood_pressure"
    systolic_mmhg: Annotated[int, Field(ge=40, le=300)]
    diastolic_mmhg: Annotated[int, Field(ge=20, le=200)]
    measured_on: PastDate

    @model_validator(mode="after")
    def _order(self) -> BloodPressure:
        if self.diastolic_mmhg >= self.systolic_mmhg:
            raise ValueError("the diastolic pressure must be lower than the systolic pressure")
        return self


class AdvanceDirective(_Entry):
    kind: Literal["advance_directive"] = "advance_directive"
    text: LongText
    written_on: PastDate
    trusted_person: Text | None = None


class OrganDonation(_Entry):
    kind: Literal["organ_donation"] = "organ_donation"
    choice: Literal["accepts", "refuses"]
    note: LongText | None = None


class EmergencyContact(_Entry):
    kind: Literal["emergency_contact"] = "emergency_contact"
    name: Text
    relation: Text
    phone: Phone


class CareTeamMember(_Entry):
    """One of the patient's own professionals (the regular doctor is designated with the access settings)."""

    kind: Literal["care_team"] = "care_team"
    name: Text
    profession: Annotated[str, AfterValidator(_profession)]
    role: Text | None = None
    phone: Phone | None = None


ProfilePayload = Annotated[
    Allergy
    | MedicalHistory
    | SurgicalHistory
    | FamilyHistory
    | Treatment
    | Prescription
    | Dispensation
    | Vaccination
    | BloodGroup
    | Weight
    | Height
    | BloodPressure
    | AdvanceDirective
    | OrganDonation
    | EmergencyContact
    | CareTeamMember,
    Field(discriminator="kind"),
]
PROFILE_PAYLOAD: TypeAdapter[ProfilePayload] = TypeAdapter(ProfilePayload)
PROFILE_KINDS: tuple[str, ...] = (
    "allergy",
    "medical_history",
    "surgical_history",
    "family_history",
    "treatment",
    "prescription",
    "dispensation",
    "vaccination",
    "blood_group",
    "weight",
    "height",
    "blood_pressure",
    "advance_directive",
    "organ_donation",
    "emergency_contact",
    "care_team",
)
