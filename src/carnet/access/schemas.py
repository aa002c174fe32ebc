"""Outputs of the access services."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AuthorisationView:
    professional_rpps: str
    scope: str
    granted_via: str
    granted_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class SettingsView:
    patient_id: uuid.UUID
    regular_doctor_rpps: str | None
    emergency_opt_out: bool
    regulation_opt_out: bool
    authorisations: list[AuthorisationView]
    blocked: list[str]
    blocked_since: dict[str, datetime]  # each blocked professional's RPPS: when the patient blocked them


@dataclass(frozen=True, slots=True)
class EpisodeView:
    id: uuid.UUID
    mode: str
    started_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class MatrixChange:
    """One version of the matrix: when, by whom, why, and the cells it allowed and refused compared with the one
    before (the first version loaded from the shipped file has no version before it)."""

    version: int
    at: datetime
    by: str
    reason: str
    allowed: list[tuple[str, str]]
    refused: list[tuple[str, str]]
    first: bool
