"""The Actor: who is asking, in what capacity. Every service touching patient data receives one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class ActorKind(StrEnum):
    PATIENT = "patient"
    PROFESSIONAL = "professional"
    DESK = "desk"  # an insurance desk agent: opens records for visitors who present their card, reads nothing
    OPERATOR = "operator"  # staff running Carnet: statistics, audit, keys; never medical content
    SYSTEM = "system"
    ANONYMOUS = "anonymous"  # someone not proven yet: a sign-in attempt, named by its network address


class Mode(StrEnum):
    """How a professional is acting (SPEC §4.3). Patients and system jobs always act in normal mode."""

    NORMAL = "normal"
    EMERGENCY = "emergency"  # "bris de glace": the patient cannot consent
    REGULATION = "regulation"  # SAMU / centre 15 regulating doctor handling a call
    DEPOSIT_ONLY = "deposit-only"


@dataclass(frozen=True, slots=True)
class Actor:
    kind: ActorKind
    # patient: the record holder's patient id; professional: RPPS; desk: the agent's staff id;
    # operator: the operator account's id; system: the job's name.
    ref: str
    profession: str | None = None
    organisation: str | None = None
    mode: Mode = Mode.NORMAL

    @classmethod
    def patient(cls, patient_id: uuid.UUID) -> Actor:
        return cls(ActorKind.PATIENT, str(patient_id))

    @classmethod
    def professional(
        cls, rpps: str, profession: str, organisation: str | None = None, mode: Mode = Mode.NORMAL
    ) -> Actor:
        return cls(ActorKind.PROFESSIONAL, rpps, profession=profession, organisation=organisation, mode=mode)

    @classmethod
    def desk(cls, staff_id: str, office: str | None = None) -> Actor:
        return cls(ActorKind.DESK, staff_id, organisation=office)

    @classmethod
    def operator(cls, operator_id: uuid.UUID) -> Actor:
        return cls(ActorKind.OPERATOR, str(operator_id))

    @classmethod
    def anonymous(cls, address: str) -> Actor:
        return cls(ActorKind.ANONYMOUS, address[:64])

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.SYSTEM, job)

    def is_patient_of(self, patient_id: uuid.UUID) -> bool:
        return self.kind is ActorKind.PATIENT and self.ref == str(patient_id)
