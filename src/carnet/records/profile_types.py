"""The FHIR resource types the medical profile is made of, and what Carnet derives from a resource (pure).

A profile entry is the FHIR resource as written (ARCHITECTURE.md, Data). The columns beside it, for the access
rules, lists and search, come from `derive` and nowhere else:

- kind: the SPEC §2 profile kind, from the type and, for an Observation, its LOINC code (weight, height, blood
  pressure and blood group are views by code, the blood group whole or as ABO and Rh apart; any other
  Observation is of kind `observation`); for a Basic,
  its Carnet profile-kind code;
- status: the resource's own status (`clinicalStatus` for AllergyIntolerance and Condition, `active` for
  RelatedPerson), and `verificationStatus` beside it;
- in_error: entered in error (status or verificationStatus), never current and left out of default lists;
- occurred_on: the first day of the clinical date (onset, effective, performed, occurrence...), to the
  precision written (`2004` is 2004-01-01);
- author_rpps: the professional the resource names (recorder, performer, requester...) by RPPS, written as
  `8` + RPPS (the national identifier) or as the bare 11 digits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from carnet.fhir.codes import CARNET, LOINC, RPPS_SYSTEM
from carnet.kit.errors import Invalid
from carnet.kit.identifiers import parse_rpps

KIND_SYSTEM = f"{CARNET}/CodeSystem/profile-kind"
# The blood group is written either whole (882-1 ABO and Rh) or as its two halves, each its own
# Observation (883-9 ABO group, 10331-7 Rh type), as laboratories report them: all three are the blood group.
BLOOD_GROUP_CODES = ("882-1", "883-9", "10331-7")
OBSERVATION_VIEWS = {
    **dict.fromkeys(BLOOD_GROUP_CODES, "blood_group"),
    "29463-7": "weight",
    "8302-2": "height",
    "85354-9": "blood_pressure",
    "55284-4": "blood_pressure",
}
BASIC_KINDS = ("advance_directive", "organ_donation")
IN_ERROR = "entered-in-error"
# Types whose clinical date is of something that happened (or was written): it cannot be in the future.
HAPPENED = frozenset(
    {"AllergyIntolerance", "Condition", "Observation", "MedicationRequest", "MedicationDispense", "Immunization"}
    | {"Procedure", "FamilyMemberHistory", "Basic"}
)


@dataclass(frozen=True, slots=True)
class ProfileType:
    name: str
    kinds: tuple[str, ...]
    default_class: str  # the source class of a professional's entry that names none
    subject: str  # the element naming the patient
    dates: tuple[str, ...]  # where the clinical date is, first present wins
    authors: tuple[str, ...]  # where the author is named (references; `[]` for each of a list)


PROFILE_TYPES = {
    t.name: t
    for t in (
        ProfileType(
            "AllergyIntolerance",
            ("allergy",),
            "11",
            "patient",
            ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
            ("recorder", "asserter"),
        ),
        ProfileType(
            "Condition",
            ("medical_history",),
            "11",
            "subject",
            ("onsetDateTime", "onsetPeriod.start", "recordedDate"),
            ("recorder", "asserter"),
        ),
        ProfileType(
            "Observation",
            ("blood_group", "weight", "height", "blood_pressure", "observation"),
            "10",
            "subject",
            ("effectiveDateTime", "effectivePeriod.start", "effectiveInstant", "issued"),
            ("performer[]",),
        ),
        ProfileType(
            "MedicationStatement",
            ("treatment",),
            "44",
            "subject",
            ("effectiveDateTime", "effectivePeriod.start", "dateAsserted"),
            ("informationSource",),
        ),
        ProfileType(
            "MedicationRequest", ("prescription",), "42", "subject", ("authoredOn",), ("requester", "recorder")
        ),
        ProfileType(
            "MedicationDispense",
            ("dispensation",),
            "43",
            "subject",
            ("whenHandedOver", "whenPrepared"),
            ("performer[].actor",),
        ),
        ProfileType(
            "Immunization",
            ("vaccination",),
            "11",
            "patient",
            ("occurrenceDateTime", "recorded"),
            ("performer[].actor",),
        ),
        ProfileType("RelatedPerson", ("emergency_contact",), "11", "patient", ("period.start",), ()),
        ProfileType(
            "Procedure",
            ("surgical_history",),
            "10",
            "subject",
            ("performedDateTime", "performedPeriod.start"),
            ("recorder", "asserter", "performer[].actor"),
        ),
        ProfileType("FamilyMemberHistory", ("family_history",), "11", "patient", ("date",), ()),
        ProfileType("CareTeam", ("care_team",), "11", "subject", ("period.start",), ()),
        ProfileType("Basic", BASIC_KINDS, "11", "subject", ("created",), ("author",)),
    )
}
TYPE_OF_KIND = {kind: t for t in PROFILE_TYPES.values() for kind in t.kinds}
PROFILE_KINDS: tuple[str, ...] = tuple(TYPE_OF_KIND)


@dataclass(frozen=True, slots=True)
class Derived:
    kind: str
    resource_type: str
    status: str | None
    verification: str | None
    in_error: bool
    occurred_on: date | None
    occurred_at: str | None  # the element occurred_on comes from, as a FHIRPath
    author_rpps: str | None


def derive(resource: Mapping[str, Any]) -> Derived:
    """The columns beside a stored resource; it is already validated against the FHIR models."""
    name = str(resource["resourceType"])
    profile_type = PROFILE_TYPES[name]
    status, verification = _status(name, resource)
    dated = ((p, _first_day(_at(resource, p))) for p in profile_type.dates if _at(resource, p) is not None)
    occurred_at, occurred_on = next(dated, (None, None))
    return Derived(
        kind=_kind(name, resource),
        resource_type=name,
        status=status,
        verification=verification,
        in_error=IN_ERROR in (status, verification),
        occurred_on=occurred_on,
        occurred_at=f"{name}.{occurred_at}" if occurred_at else None,
        author_rpps=_author(profile_type, resource),
    )


def _codes(concept: Any, system: str | None = None) -> list[str]:
    if not isinstance(concept, Mapping):
        return []
    codings = concept.get("coding") or []
    return [str(c["code"]) for c in codings if c.get("code") and (system is None or c.get("system") == system)]


def _kind(name: str, resource: Mapping[str, Any]) -> str:
    if name == "Observation":
        codes = _codes(resource.get("code"), LOINC)
        return next((OBSERVATION_VIEWS[c] for c in codes if c in OBSERVATION_VIEWS), "observation")
    if name == "Basic":
        kinds = [k for k in _codes(resource.get("code"), KIND_SYSTEM) if k in BASIC_KINDS]
        if len(kinds) != 1:
            raise Invalid(
                "Carnet keeps a Basic resource for an advance directive or an organ-donation choice only: "
                f"Basic.code names one of {', '.join(BASIC_KINDS)} in {KIND_SYSTEM}.",
                code="unknown-kind",
                expression="Basic.code",
            )
        return kinds[0]
    return PROFILE_TYPES[name].kinds[0]


def _status(name: str, resource: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if name in ("AllergyIntolerance", "Condition"):
        clinical = _codes(resource.get("clinicalStatus"))
        verification = _codes(resource.get("verificationStatus"))
        return (clinical[0] if clinical else None), (verification[0] if verification else None)
    if name == "RelatedPerson":
        active = resource.get("active")
        return (None if active is None else "active" if active else "inactive"), None
    status = resource.get("status")
    return (str(status) if status is not None else None), None


def _at(resource: Mapping[str, Any], path: str) -> Any:
    value: Any = resource
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _first_day(value: Any) -> date | None:
    """The first day a FHIR date, dateTime or instant covers: `2004` is 2004-01-01, `2004-12` 2004-12-01."""
    text = str(value)
    year, month, day = text[:4], text[5:7] or "01", text[8:10] or "01"
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def references(resource: Mapping[str, Any], path: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The references at a path like `performer[].actor`, each with its FHIRPath."""
    items: list[tuple[str, Any]] = [(str(resource["resourceType"]), resource)]
    for part in path.split("."):
        many = part.endswith("[]")
        key = part.removesuffix("[]")
        found: list[tuple[str, Any]] = []
        for where, value in items:
            child = value.get(key) if isinstance(value, Mapping) else None
            if many and isinstance(child, list):
                found += [(f"{where}.{key}[{i}]", c) for i, c in enumerate(child)]
            elif child is not None:
                found.append((f"{where}.{key}", child))
        items = found
    yield from ((where, value) for where, value in items if isinstance(value, Mapping))


def _author(profile_type: ProfileType, resource: Mapping[str, Any]) -> str | None:
    for path in profile_type.authors:
        for where, reference in references(resource, path):
            identifier = reference.get("identifier")
            if isinstance(identifier, Mapping) and identifier.get("system") == RPPS_SYSTEM:
                return rpps_of(str(identifier.get("value", "")), f"{where}.identifier.value")
    return None


def rpps_of(value: str, where: str) -> str:
    """An RPPS number as French software writes it: `8` + RPPS (12 digits) or the bare 11 digits."""
    digits = value.strip()
    if len(digits) == 12 and digits.startswith("8"):
        digits = digits[1:]
    try:
        return parse_rpps(digits)
    except Invalid:
        raise Invalid(
            f"An identifier of system {RPPS_SYSTEM} is an RPPS number: 8 followed by the 11 digits of the RPPS, "
            "or the 11 digits alone, with a valid check digit.",
            code="invalid-rpps",
            expression=where,
        ) from None
