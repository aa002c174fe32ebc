"""A TOTP enrolment is confirmed by the app's first code (identity.accounts.activate explains the rule)."""

from __future__ import annotations

import uuid

import pyotp
import pytest

from carnet.context import Context
from carnet.identity import accounts
from carnet.identity.accounts import Activation
from carnet.identity.cards import SimulatedCard, register_card
from carnet.identity.models import PatientAccount
from carnet.kit.errors import Unauthenticated
from tests.factories import SYSTEM, new_ins, open_test_record
from tests.http_fixtures import PASSWORD

ADDRESS = "192.0.2.40"


def _activation(ctx: Context) -> tuple[Activation, uuid.UUID]:
    ins = new_ins()
    patient_id = open_test_record(ctx, ins=ins)
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**10:010d}")
    register_card(ctx, SYSTEM, ins, card.serial, card.public_key())
    code = accounts.issue_activation_code(ctx, patient_id, issued_by="pharmacy:test")
    login = f"patient-{uuid.uuid4().hex[:8]}"
    return Activation(ins[:13], card.serial, code.code, login, PASSWORD, "totp"), patient_id


def _code(uri: str) -> str:
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP)
    return totp.now()


def _account(ctx: Context, patient_id: uuid.UUID) -> PatientAccount:
    account = ctx.session.query(PatientAccount).filter_by(patient_id=patient_id).one()
    ctx.session.refresh(account)
    return account


def test_the_first_code_on_the_activation_page_confirms_the_app_and_signs_in(ctx: Context) -> None:
    form, patient_id = _activation(ctx)
    step = accounts.activate(ctx, form, address=ADDRESS, confirm_here=True)
    assert step.totp_uri and step.session_token
    assert _account(ctx, patient_id).totp_confirmed_at is None
    assert accounts.unconfirmed_enrolment(ctx, pending_token=step.session_token) == step.totp_uri
    code = _code(step.totp_uri)
    wrong = accounts.second_factor(
        ctx, pending_token=step.session_token, code="000000" if code != "000000" else "1", address=ADDRESS
    )
    assert wrong.refusal is not None and _account(ctx, patient_id).totp_confirmed_at is None
    signed_in = accounts.second_factor(ctx, pending_token=step.session_token, code=code, address=ADDRESS)
    assert signed_in.refusal is None and signed_in.session_token
    assert _account(ctx, patient_id).totp_confirmed_at is not None
    with pytest.raises(Unauthenticated):
        accounts.unconfirmed_enrolment(ctx, pending_token=step.session_token)  # that session is spent


def test_without_confirm_here_no_session_starts_and_the_first_sign_in_code_confirms(ctx: Context) -> None:
    form, patient_id = _activation(ctx)
    step = accounts.activate(ctx, form, address=ADDRESS)
    assert step.totp_uri and step.session_token is None  # the JSON API's activation: sign in afterwards
    first = accounts.sign_in(ctx, login=form.login, password=PASSWORD, address=ADDRESS)
    assert first.refusal is None and first.second_factor == "totp" and first.session_token
    # A sign-in's session is never shown the seed, even before confirmation and with the right password.
    assert accounts.unconfirmed_enrolment(ctx, pending_token=first.session_token) is None
    assert _account(ctx, patient_id).totp_confirmed_at is None
    code = _code(step.totp_uri)
    done = accounts.second_factor(ctx, pending_token=first.session_token, code=code, address=ADDRESS)
    assert done.refusal is None and _account(ctx, patient_id).totp_confirmed_at is not None


def test_once_confirmed_the_activation_session_no_longer_sees_the_seed(ctx: Context) -> None:
    form, _ = _activation(ctx)
    step = accounts.activate(ctx, form, address=ADDRESS, confirm_here=True)
    assert step.totp_uri and step.session_token
    first = accounts.sign_in(ctx, login=form.login, password=PASSWORD, address=ADDRESS)
    assert first.session_token
    code = _code(step.totp_uri)
    assert accounts.second_factor(ctx, pending_token=first.session_token, code=code, address=ADDRESS).refusal is None
    assert accounts.unconfirmed_enrolment(ctx, pending_token=step.session_token) is None


def test_a_code_by_email_needs_no_confirmation_session(ctx: Context) -> None:
    form, _ = _activation(ctx)
    email = Activation(form.nir, form.card_serial, form.code, form.login, PASSWORD, "email", email="a@example.org")
    step = accounts.activate(ctx, email, address=ADDRESS, confirm_here=True)
    assert step.session_token is None and step.totp_uri is None
