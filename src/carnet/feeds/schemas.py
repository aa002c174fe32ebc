"""A reimbursement line as the insurer sends it, and as readers see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from carnet.records.profile_kinds import PastDate

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _reference(value: str) -> str:
    if not value.replace("-", "").replace(".", "").isalnum():
        raise ValueError("letters, digits, dots and dashes only")
    return value


class ReimbursementLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_ref: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(_reference)
    ]
    service_date: PastDate
    code_system: Literal["CCAM", "NGAP", "CIP13"]
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16)]
    label: Text
    amount_cents: Annotated[int, Field(ge=0, le=100_000_000)]
    reimbursed_cents: Annotated[int, Field(ge=0, le=100_000_000)]
    prescriber: Text | None = None
    dispenser: Text | None = None

    @model_validator(mode="after")
    def _amounts(self) -> ReimbursementLine:
        if self.reimbursed_cents > self.amount_cents:
            raise ValueError("the amount reimbursed cannot exceed the amount charged")
        return self


class LineDetails(BaseModel):
    """What is stored encrypted: who prescribed and dispensed, and what the act or medicine is called."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: str
    prescriber: str | None = None
    dispenser: str | None = None


@dataclass(frozen=True, slots=True)
class ReimbursementView:
    id: uuid.UUID
    patient_id: uuid.UUID
    claim_ref: str
    service_date: date
    code_system: str
    code: str
    label: str
    amount_cents: int
    reimbursed_cents: int
    prescriber: str | None
    dispenser: str | None
    received_at: datetime
