"""Card readers over HTTP: a challenge, the patient's card signing it, and what the presentation allows."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, Field

from carnet.api.deps import bearer, errors, unit
from carnet.identity import cards
from carnet.identity.cards import CardShown
from carnet.kit.errors import Invalid
from carnet.kit.validation import validate_model
from carnet.records.schemas import PatientIdentity

router = APIRouter(tags=["card readers"])


class ChallengeOut(BaseModel):
    challenge_id: uuid.UUID
    nonce: str = Field(description="Base64 of the bytes the card signs, with the reader's name and its serial.")
    reader: str = Field(description="The reader's name in the signed message: the RPPS, or desk:<staff id>.")
    expires_at: datetime


class CardIn(BaseModel):
    challenge_id: uuid.UUID
    serial: Annotated[str, Field(min_length=1, max_length=20)]
    signature: Annotated[str, Field(min_length=1, max_length=200, description="Base64 of the card's signature.")]

    def shown(self) -> CardShown:
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("The signature is not valid base64.", code="invalid-signature") from None
        return CardShown(self.challenge_id, self.serial.strip().upper(), signature)


class IdentityIn(BaseModel):
    family_name: Annotated[str, Field(max_length=100)]
    given_names: Annotated[str, Field(max_length=100)]
    birth_date: date
    sex: Literal["F", "M", "U"]
    postcode: Annotated[str, Field(max_length=5)]


class OpenIn(BaseModel):
    card: CardIn
    identity: IdentityIn
    consent: Literal[True] = Field(description="The patient agreed to the opening of their record.")


class AuthorisationOut(BaseModel):
    patient_id: uuid.UUID
    scope: str
    granted_via: str
    expires_at: datetime


class OpenedOut(BaseModel):
    patient_id: uuid.UUID
    activation_code: str = Field(
        description="Hand it to the patient: with their NIR and card, it activates the account."
    )
    activation_expires_at: datetime
    authorisation: AuthorisationOut | None = None


class CodeOut(BaseModel):
    activation_code: str
    expires_at: datetime


@router.post("/cards/challenges", status_code=status.HTTP_201_CREATED, responses=errors(401, 403))
def new_challenge(request: Request) -> ChallengeOut:
    """A fresh nonce for the card reader of the professional or desk agent the token names (2 minutes, once)."""
    principal = bearer(request)
    with unit(request) as ctx:
        challenge = cards.issue_challenge(ctx, principal.actor)
    return ChallengeOut(
        challenge_id=challenge.id,
        nonce=base64.b64encode(challenge.nonce).decode(),
        reader=cards.reader_of(principal.actor),
        expires_at=challenge.expires_at,
    )


@router.post("/cards/presentations", responses=errors(401, 403, 404, 422))
def present(body: CardIn, request: Request) -> AuthorisationOut:
    """The patient's card signed the challenge: the professional is authorised on the holder's record."""
    principal, shown = bearer(request), body.shown()
    with unit(request) as ctx:
        patient_id, granted = cards.present_card(
            ctx, principal.actor, shown.challenge_id, shown.serial, shown.signature
        )
    return AuthorisationOut(
        patient_id=patient_id, scope=granted.scope, granted_via=granted.granted_via, expires_at=granted.expires_at
    )


@router.post("/records", status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 409, 422))
def open_with_card(body: OpenIn, request: Request) -> OpenedOut:
    """Open the record of the patient presenting their card, at a desk, a pharmacy counter or a surgery."""
    principal = bearer(request)
    identity = validate_model(PatientIdentity, body.identity.model_dump())  # before anything is spent
    with unit(request) as ctx:
        opened = cards.open_record_with_card(ctx, principal.actor, body.card.shown(), identity)
    authorisation = None
    if opened.authorisation is not None:
        authorisation = AuthorisationOut(
            patient_id=opened.patient_id,
            scope=opened.authorisation.scope,
            granted_via=opened.authorisation.granted_via,
            expires_at=opened.authorisation.expires_at,
        )
    return OpenedOut(
        patient_id=opened.patient_id,
        activation_code=opened.activation_code,
        activation_expires_at=opened.activation_expires_at,
        authorisation=authorisation,
    )


@router.post("/records/activation-codes", status_code=status.HTTP_201_CREATED, responses=errors(401, 403, 404, 422))
def new_activation_code(body: CardIn, request: Request) -> CodeOut:
    """A new activation code for the patient presenting their card (lost password or second factor)."""
    principal = bearer(request)
    with unit(request) as ctx:
        issued = cards.reissue_activation_code(ctx, principal.actor, body.shown())
    return CodeOut(activation_code=issued.code, expires_at=issued.expires_at)
