"""Patients' online accounts: activation, sign-in with a second factor, re-authentication, recovery.

Every answer that could tell whether an account exists is the same, and costs the same time, whether it
exists or not. A failed step is not an exception inside the unit of work: the failure must be counted and
audited in a transaction that commits, so steps return a `Step` whose `refusal` the adapter raises after.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

import pyotp
from sqlalchemy import delete, select, update

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.audit.chain import NO_RECORD
from carnet.context import Context
from carnet.identity import otp, sessions
from carnet.identity.models import ActivationCode, PatientAccount, RecoveryToken, VitaleCard
from carnet.identity.passwords import check_strength, hash_password, spend_verification_time, verify_password
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Conflict, Invalid, Unauthenticated
from carnet.kit.identifiers import EMAIL, nir_key, parse_ins
from carnet.kit.secrets import digest, new_activation_code, new_numeric_code, new_token, normalize_code, same
from carnet.notify.service import enqueue_personal, read_notification_settings, set_notification_settings
from carnet.records import repository as records_repository
from carnet.records.keys import data_key
from carnet.records.service import record_identity

SecondFactor = Literal["totp", "email", "sms"]
ACTIVATION_LIFETIME = timedelta(days=30)
CODE_LIFETIME = timedelta(minutes=10)
RECOVERY_LIFETIME = timedelta(hours=1)
MAX_CODE_ATTEMPTS = 5
NO_MATCH = "These details do not match: check them, or ask for a new activation code at a desk or a pharmacy."
BAD_CREDENTIALS = "The login or the password is wrong."


@dataclass(frozen=True, slots=True)
class IssuedCode:
    code: str
    expires_at: datetime


@dataclass(slots=True)
class Step:
    """The outcome of one step of a sign-in flow: what to hand back, or the refusal to raise once committed."""

    refusal: CarnetError | None = None
    session_token: str | None = None
    device_token: str | None = None
    second_factor: str | None = None
    totp_uri: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _totp_aad(account_id: uuid.UUID) -> str:
    return f"patient_accounts.totp:{account_id}"


def issue_activation_code(ctx: Context, patient_id: uuid.UUID, *, issued_by: str) -> IssuedCode:
    """A new single-use code for the patient's first (or renewed) activation; earlier unused codes stop working.

    Callers have passed the gate for this patient (opening the record, or the card shown at a desk).
    """
    now = clock.now()
    ctx.session.execute(
        update(ActivationCode)
        .where(ActivationCode.patient_id == patient_id, ActivationCode.used_at.is_(None))
        .values(used_at=now)
    )
    code = new_activation_code()
    expires = now + ACTIVATION_LIFETIME
    ctx.session.add(
        ActivationCode(
            code_hash=digest(normalize_code(code)),
            patient_id=patient_id,
            issued_at=now,
            issued_by=issued_by,
            expires_at=expires,
            used_at=None,
        )
    )
    return IssuedCode(code, expires)


def _canonical_ins(nir: str) -> str:
    """The INS from a NIR typed with or without its key."""
    text = "".join(nir.split()).upper()
    if len(text) == 13:
        text += nir_key(text)
    return parse_ins(text).value


@dataclass(frozen=True, slots=True)
class Activation:
    nir: str
    card_serial: str
    code: str
    login: str
    password: str
    second_factor: SecondFactor
    email: str | None = None
    phone: str | None = None


def _check_login(login: str) -> str:
    login = login.strip().lower()
    if not (3 <= len(login) <= 254) or any(ch.isspace() for ch in login):
        raise Invalid("A login has 3 to 254 characters and no spaces (a name, or your e-mail address).")
    if "@" in login and not EMAIL.match(login):
        raise Invalid("This login looks like an e-mail address but is not a valid one.", code="invalid-login")
    return login


def activate(ctx: Context, form: Activation, *, address: str, confirm_here: bool = False) -> Step:
    """First activation (or a renewed one): NIR + carte Vitale serial + one-time code prove the patient.

    The code is spent; the password and second factor chosen here are the account's from now on.

    A TOTP enrolment is confirmed by the first code the patient's app gives: until then nothing proves the app
    holds the seed. No session ever starts without such a code, so an unconfirmed enrolment skips nothing:
    the second-factor step of a sign-in asks for it as always, and the first code it accepts confirms the
    enrolment (`second_factor`). With `confirm_here` (the portal), the step also carries a half-done session
    (`session_token`, as after a password) whose first code both confirms the app and signs the patient in,
    on the page that shows the QR code; while the enrolment is unconfirmed, that session alone may have the
    seed shown again (`unconfirmed_enrolment`), so a failed scan is retried, never a trip to a desk.
    """
    login = _check_login(form.login)
    ins = _canonical_ins(form.nir)
    if form.second_factor == "email" and not form.email:
        raise Invalid("Give an e-mail address to receive your sign-in codes.", code="missing-contact")
    if form.second_factor == "sms" and not form.phone:
        raise Invalid("Give a mobile number to receive your sign-in codes.", code="missing-contact")
    keys = [sessions.throttle_key("activation", ins), sessions.throttle_key("address", address)]
    sessions.check_throttle(ctx.session, keys)
    anonymous = Actor.anonymous(address)
    record = records_repository.living_record_for_ins(ctx.session, ins)
    card = ctx.session.get(VitaleCard, form.card_serial.strip().upper())
    now = clock.now()
    spent = None
    if record is not None and card is not None and card.ins == ins and card.revoked_at is None:
        spent = ctx.session.scalar(
            update(ActivationCode)
            .where(
                ActivationCode.code_hash == digest(normalize_code(form.code)),
                ActivationCode.patient_id == record.patient_id,
                ActivationCode.used_at.is_(None),
                ActivationCode.expires_at > now,
            )
            .values(used_at=now)
            .returning(ActivationCode.patient_id)
        )
    if spent is None or record is None:
        sessions.record_failure(ctx.session, keys)
        chain = record.patient_id if record is not None else NO_RECORD
        gate.trace_authentication(ctx, anonymous, "account.activate", chain, allowed=False, reason="no-match")
        return Step(refusal=Unauthenticated(NO_MATCH, code="activation-refused"))
    patient_id = record.patient_id
    identity = record_identity(ctx, patient_id)
    personal = [login, login.split("@")[0], ins, ins[:13], identity.family_name, identity.birth_date.isoformat()]
    personal += identity.given_names.split()
    check_strength(form.password, personal=personal)
    taken = ctx.session.scalars(select(PatientAccount.patient_id).where(PatientAccount.login == login)).one_or_none()
    if taken is not None and taken != patient_id:
        raise Conflict("This login is taken: choose another.", code="login-taken")
    previous = ctx.session.scalars(select(PatientAccount).where(PatientAccount.patient_id == patient_id)).one_or_none()
    if previous is not None:
        # A renewed activation (lost password or phone): the old account and all its sessions end.
        sessions.end_all(ctx.session, "patient", previous.id)
        ctx.session.delete(previous)
        ctx.session.flush()
    patient = Actor.patient(patient_id)
    if form.email or form.phone:
        current = read_notification_settings(ctx, patient, patient_id)
        set_notification_settings(
            ctx,
            patient,
            patient_id,
            email=form.email or current.email,
            phone=form.phone or current.phone,
            wanted=current.wanted,
        )
    account = PatientAccount(
        id=uuid.uuid4(),
        patient_id=patient_id,
        login=login,
        password_hash=hash_password(form.password),
        second_factor=form.second_factor,
        totp_secret_ct=None,
        created_at=now,
        password_changed_at=now,
    )
    step = Step(second_factor=form.second_factor)
    if form.second_factor == "totp":
        secret = pyotp.random_base32()
        account.totp_secret_ct = data_key(ctx, patient_id).encrypt_text(secret, aad=_totp_aad(account.id))
        step.totp_uri = pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name="Carnet")
    ctx.session.add(account)
    ctx.session.flush()
    if confirm_here and form.second_factor == "totp":
        step.session_token, pending = sessions.start(
            ctx.session, "patient", account.id, stage="second-factor", address=address
        )
        account.enrolment_session_hash = pending.token_hash
    sessions.clear_throttle(ctx.session, keys[:1])
    gate.trace_authentication(ctx, patient, "account.activate", patient_id, allowed=True, reason="card-and-code")
    return step


def login_in_use(ctx: Context, login: str) -> bool:
    """Whether an account signs in with this login (the demo asks before activating its accounts)."""
    return _account(ctx, login.strip().lower()) is not None


def _account(ctx: Context, login: str) -> PatientAccount | None:
    return ctx.session.scalars(
        select(PatientAccount).where(PatientAccount.login == login.strip().lower())
    ).one_or_none()


def sign_in(ctx: Context, *, login: str, password: str, address: str, device: str | None = None) -> Step:
    """The password step. Unknown login and wrong password: same answer, same work, same time."""
    name = login.strip().lower()
    if not name or len(name) > 254 or not password or len(password) > 1024:
        raise Invalid("Give your login and your password.", code="invalid-credentials")
    account = _account(ctx, name)
    known = sessions.known_device(ctx.session, device, "patient", account.id if account else None)
    # A known device has its own count; any other is checked on this name from this address, never on the
    # name alone, so strangers' failures cannot keep the patient out (see identity/sessions.py).
    if known and device:
        checked = [sessions.throttle_key("device", device), sessions.throttle_key("address", address)]
        keys = checked
    else:
        checked = [sessions.name_from_address_key(name, address), sessions.throttle_key("address", address)]
        keys = [sessions.throttle_key("name", name), *checked]
    anonymous = Actor.anonymous(address)
    chain = account.patient_id if account is not None else NO_RECORD
    try:
        sessions.check_throttle(ctx.session, checked)
    except CarnetError as locked:
        gate.trace_authentication(ctx, anonymous, "login.password", chain, allowed=False, reason="locked")
        return Step(refusal=locked)
    good = spend_verification_time(password) if account is None else verify_password(account.password_hash, password)
    if account is None or not good:
        sessions.record_failure(ctx.session, keys)
        gate.trace_authentication(ctx, anonymous, "login.password", chain, allowed=False, reason="bad-credentials")
        return Step(refusal=Unauthenticated(BAD_CREDENTIALS, code="bad-credentials"))
    token, row = sessions.start(ctx.session, "patient", account.id, stage="second-factor", address=address)
    step = Step(session_token=token, second_factor=account.second_factor)
    if account.second_factor in ("email", "sms"):
        code = new_numeric_code()
        row.code_hash, row.code_expires_at = digest(code), clock.now() + CODE_LIFETIME
        sent = enqueue_personal(
            ctx,
            account.patient_id,
            channel=account.second_factor,
            kind="sign-in-code",
            subject="Votre code de connexion Carnet",
            body=f"Votre code de connexion Carnet : {code}. Il expire dans 10 minutes. Ne le donnez à personne.",
            expires_at=row.code_expires_at,
        )
        if not sent:
            step.extra["warning"] = "No address is on file for your second factor: ask a desk for a new code."
    gate.trace_authentication(ctx, anonymous, "login.password", chain, allowed=True, reason="password")
    return step


def second_factor(ctx: Context, *, pending_token: str, code: str, address: str) -> Step:
    """The second step: the TOTP of the patient's app, or the code sent by e-mail or SMS."""
    row = sessions.pending(ctx.session, pending_token)
    account = ctx.session.get(PatientAccount, row.subject_id)
    if account is None:
        raise Unauthenticated("This sign-in has expired: start again with your password.", code="sign-in-expired")
    code = "".join(code.split())
    good = False
    if account.second_factor == "totp" and account.totp_secret_ct is not None:
        secret = data_key(ctx, account.patient_id).decrypt_text(account.totp_secret_ct, aad=_totp_aad(account.id))
        good = otp.accept(ctx.session, PatientAccount, account.id, secret, code, clock.now())
        if good and account.totp_confirmed_at is None:
            account.totp_confirmed_at = clock.now()  # the app holds the seed: the enrolment is proven
            account.enrolment_session_hash = None
            gate.trace_authentication(
                ctx,
                Actor.patient(account.patient_id),
                "account.confirm-totp",
                account.patient_id,
                allowed=True,
                reason="first-code",
            )
    elif row.code_hash is not None and row.code_expires_at is not None and row.code_expires_at > clock.now():
        good = same(row.code_hash, digest(code))
    anonymous = Actor.anonymous(address)
    keys = [
        sessions.throttle_key("name", account.login),
        sessions.name_from_address_key(account.login, address),
        sessions.throttle_key("address", address),
    ]
    if not good:
        row.code_attempts += 1
        if row.code_attempts >= MAX_CODE_ATTEMPTS:
            row.revoked_at = clock.now()
        sessions.record_failure(ctx.session, keys)
        gate.trace_authentication(
            ctx, anonymous, "login.second-factor", account.patient_id, allowed=False, reason="bad-code"
        )
        return Step(refusal=Unauthenticated("This code is wrong or has expired.", code="bad-code"))
    # A new token for the full session: the pending one, which travelled before the second factor, dies.
    row.revoked_at = clock.now()
    token, _ = sessions.start(ctx.session, "patient", account.id, stage="active", address=address)
    device = sessions.remember_device(ctx.session, "patient", account.id)
    sessions.clear_throttle(ctx.session, keys[1:2])  # the name's count stays: it is the strangers' record
    patient = Actor.patient(account.patient_id)
    gate.trace_authentication(ctx, patient, "login.second-factor", account.patient_id, allowed=True, reason="signed-in")
    return Step(session_token=token, device_token=device)


def unconfirmed_enrolment(ctx: Context, *, pending_token: str) -> str | None:
    """The authenticator URI again, for the half-done session of an activation whose app is not yet
    confirmed (see `activate`); None once a code has confirmed it, or for any other session."""
    row = sessions.pending(ctx.session, pending_token)
    account = ctx.session.get(PatientAccount, row.subject_id)
    if account is None or account.totp_secret_ct is None or account.totp_confirmed_at is not None:
        return None
    if account.enrolment_session_hash is None or not same(account.enrolment_session_hash, row.token_hash):
        return None  # a sign-in's session, even with the right password: the seed is never shown to it
    secret = data_key(ctx, account.patient_id).decrypt_text(account.totp_secret_ct, aad=_totp_aad(account.id))
    return pyotp.TOTP(secret).provisioning_uri(name=account.login, issuer_name="Carnet")


def patient_of_session(ctx: Context, token: str) -> tuple[Actor, sessions.ActiveSession]:
    active = sessions.resolve(ctx.session, token, "patient")
    account = ctx.session.get(PatientAccount, active.subject_id)
    if account is None:
        raise Unauthenticated("Your session has ended: sign in again.", code="session-ended")
    return Actor.patient(account.patient_id), active


def reauthenticate(ctx: Context, *, token: str, password: str, address: str) -> Step:
    """The password again, for a sensitive action in the next few minutes."""
    actor, active = patient_of_session(ctx, token)
    account = ctx.session.get(PatientAccount, active.subject_id)
    if account is None:
        raise Unauthenticated("Your session has ended: sign in again.", code="session-ended")
    keys = [
        sessions.throttle_key("name", account.login),
        sessions.name_from_address_key(account.login, address),
        sessions.throttle_key("address", address),
    ]
    sessions.check_throttle(ctx.session, keys[1:])
    patient_id = account.patient_id
    if not verify_password(account.password_hash, password):
        sessions.record_failure(ctx.session, keys)
        gate.trace_authentication(ctx, actor, "login.reauthenticate", patient_id, allowed=False, reason="bad-password")
        return Step(refusal=Unauthenticated("The password is wrong.", code="bad-credentials"))
    sessions.reauthenticated(ctx.session, token)
    gate.trace_authentication(ctx, actor, "login.reauthenticate", patient_id, allowed=True, reason="password")
    return Step()


def sign_out(ctx: Context, *, token: str, everywhere: bool) -> None:
    actor, active = patient_of_session(ctx, token)
    if everywhere:
        sessions.end_all(ctx.session, "patient", active.subject_id)
    else:
        sessions.end(ctx.session, token)
    event = "logout.everywhere" if everywhere else "logout"
    gate.trace_authentication(ctx, actor, event, uuid.UUID(actor.ref), allowed=True, reason="signed-out")


def request_recovery(ctx: Context, *, login: str, address: str, link_base: str) -> None:
    """Send a reset link to the account's own e-mail (or SMS) address; the same answer whether or not it exists."""
    name = login.strip().lower()
    if not name or len(name) > 254:
        raise Invalid("Give your login.", code="invalid-credentials")
    keys = [sessions.throttle_key("recovery", name), sessions.throttle_key("address", address)]
    sessions.check_throttle(ctx.session, keys)
    # Every request counts: the throttle bounds how many messages one person can make us send.
    sessions.record_failure(ctx.session, keys)
    account = _account(ctx, name)
    anonymous = Actor.anonymous(address)
    if account is None:
        gate.trace_authentication(ctx, anonymous, "recovery.request", NO_RECORD, allowed=False, reason="no-account")
        return
    token, now = new_token(), clock.now()
    ctx.session.add(
        RecoveryToken(
            token_hash=digest(token), account_id=account.id, issued_at=now, expires_at=now + RECOVERY_LIFETIME
        )
    )
    body = f"Pour choisir un nouveau mot de passe Carnet, ouvrez ce lien dans l'heure : {link_base}#{token}"
    sent = any(
        enqueue_personal(
            ctx,
            account.patient_id,
            channel=channel,
            kind="recovery",
            subject="Carnet : mot de passe",
            body=body,
            expires_at=now + RECOVERY_LIFETIME,
        )
        for channel in ("email", "sms")
    )
    reason = "sent" if sent else "no-address"
    gate.trace_authentication(ctx, anonymous, "recovery.request", account.patient_id, allowed=sent, reason=reason)


def complete_recovery(ctx: Context, *, token: str, password: str, address: str) -> Step:
    """A new password with a reset token: single use. Every session ends; the second factor stays as it was."""
    now = clock.now()
    account_id = ctx.session.scalar(
        update(RecoveryToken)
        .where(
            RecoveryToken.token_hash == digest(token), RecoveryToken.used_at.is_(None), RecoveryToken.expires_at > now
        )
        .values(used_at=now)
        .returning(RecoveryToken.account_id)
    )
    anonymous = Actor.anonymous(address)
    account = ctx.session.get(PatientAccount, account_id) if account_id is not None else None
    if account is None:
        sessions.record_failure(ctx.session, [sessions.throttle_key("address", address)])
        gate.trace_authentication(ctx, anonymous, "recovery.complete", NO_RECORD, allowed=False, reason="bad-token")
        return Step(refusal=Unauthenticated("This reset link is unknown, expired or already used.", code="bad-token"))
    identity = record_identity(ctx, account.patient_id)
    check_strength(password, personal=[account.login, identity.family_name, *identity.given_names.split()])
    account.password_hash, account.password_changed_at = hash_password(password), now
    ctx.session.execute(
        delete(RecoveryToken).where(RecoveryToken.account_id == account.id, RecoveryToken.used_at.is_(None))
    )
    sessions.end_all(ctx.session, "patient", account.id)
    gate.trace_authentication(ctx, anonymous, "recovery.complete", account.patient_id, allowed=True, reason="token")
    return Step()
