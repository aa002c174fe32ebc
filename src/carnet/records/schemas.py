"""Inputs and outputs of the record services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from carnet.kit.errors import Invalid
from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import parse_finess, parse_rpps
from carnet.records.codes import parse_class, parse_type
from carnet.records.profile_kinds import PastDate

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


def _postcode(value: str) -> str:
    departement_of_postcode(value)
    return value.strip().replace(" ", "")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a time zone")
    return value


class PatientIdentity(BaseModel):
    """Who the record belongs to; stored encrypted under the record's data key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    family_name: Name
    given_names: Name
    birth_date: PastDate
    sex: Literal["F", "M", "U"]
    postcode: Annotated[str, AfterValidator(_postcode)]


class ProfessionalAuthor(BaseModel):
    """The author of a document imported by a system job on a professional's behalf."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rpps: Annotated[str, AfterValidator(parse_rpps)]
    name: Name
    organisation: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = None


class NewDocument(BaseModel):
    """A document's metadata as given by whoever deposits it; the content travels beside it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    class_code: Annotated[str, AfterValidator(parse_class)]
    type_code: Annotated[str, AfterValidator(parse_type)]
    title: Title
    act_date: PastDate
    format: str
    created_at: Annotated[datetime, AfterValidator(_aware)] | None = None
    author: ProfessionalAuthor | None = None
    # The sender's unique id of the document (an OID or a URN), kept so a resubmission is recognised.
    master_identifier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)] | None = (
        None
    )


class DocumentQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    class_code: Annotated[str, AfterValidator(parse_class)] | None = None
    type_code: Annotated[str, AfterValidator(parse_type)] | None = None
    act_from: date | None = None
    act_to: date | None = None
    status: Literal["current", "deprecated", "withdrawn", "any"] = "current"
    # Half-open periods [from, before) on the deposit time and on the time of the last change.
    deposited_from: Annotated[datetime, AfterValidator(_aware)] | None = None
    deposited_before: Annotated[datetime, AfterValidator(_aware)] | None = None
    updated_from: Annotated[datetime, AfterValidator(_aware)] | None = None
    updated_before: Annotated[datetime, AfterValidator(_aware)] | None = None
    author_ref: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=36)] | None = None
    master_identifier: Annotated[str, StringConstraints(max_length=128)] | None = None
    # Words the title holds, each of them, in any case and with or without accents (titles are encrypted: the
    # service reads them once the gate has filtered the list, never the database).
    words: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    # "act": newest act first (the record's natural order); "deposited" / "-deposited": by deposit time.
    order: Literal["act", "deposited", "-deposited"] = "act"
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    offset: Annotated[int, Field(ge=0, le=100_000)] = 0

    @model_validator(mode="after")
    def _period(self) -> DocumentQuery:
        if self.act_from and self.act_to and self.act_to < self.act_from:
            raise ValueError("act_to cannot precede act_from")
        return self


@dataclass(frozen=True, slots=True)
class RecordSummary:
    patient_id: uuid.UUID
    ins: str
    state: str
    channel: str
    opened_by: str
    opened_at: datetime
    departement: str
    region: str
    identity: PatientIdentity | None
    closed_at: datetime | None
    destruction_requested_at: datetime | None


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: uuid.UUID
    patient_id: uuid.UUID
    class_code: str
    type_code: str
    title: str
    act_date: date
    author_kind: str
    author_ref: str
    author_name: str | None
    author_organisation: str | None
    created_at: datetime
    deposited_at: datetime
    format: str
    size: int
    sha256: str
    status: str
    replaces_id: uuid.UUID | None
    masked: bool = False
    # Set while the author keeps the document from its patient: readers are warned the patient does not know.
    hidden_from_patient_until: datetime | None = None
    hidden_from_representatives: bool = False
    version: int = 1
    updated_at: datetime | None = None
    master_identifier: str | None = None
    doc_status: str | None = None  # the DocumentReference's docStatus as written (preliminary, final, amended...)
    # The DocumentReference as written, with the elements Carnet sets (records/document_resource.as_read).
    resource: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def patient_provided(self) -> bool:
        return self.author_kind == "patient"


@dataclass(frozen=True, slots=True)
class DocumentPage:
    items: list[DocumentView]
    next_offset: int | None


@dataclass(frozen=True, slots=True)
class DocumentAuthor:
    """One author of a record's documents: a professional (RPPS) or the patient, by the name last written."""

    kind: str
    ref: str
    name: str | None
    organisation: str | None


@dataclass(frozen=True, slots=True)
class ProfileEntryView:
    """One profile entry: the FHIR resource as written (with the elements Carnet sets) and its derived columns."""

    id: uuid.UUID
    kind: str
    source_class: str
    author_kind: str
    author_ref: str
    recorded_at: datetime
    status: str  # Carnet's: active, or retired by its author
    resource: dict[str, Any] = field(repr=False)
    resource_status: str | None = None
    verification_status: str | None = None
    in_error: bool = False


def parse_opener(channel: str, opened_by: str) -> str:
    """Who opened the record, checked against the channel: FINESS, RPPS, desk staff id, or the patient."""
    value = opened_by.strip()
    if channel in ("pharmacy", "hospital"):
        return parse_finess(value)
    if channel == "professional":
        return parse_rpps(value)
    if channel == "insurance_desk":
        if not (3 <= len(value) <= 32 and value.isalnum()):
            raise Invalid(
                "An insurance desk opening names the agent's staff id (3 to 32 letters or digits).",
                code="invalid-opener",
            )
        return value
    return "patient"
