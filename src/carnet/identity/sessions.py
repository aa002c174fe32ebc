"""Server-side sessions, known devices, and the throttle on failed sign-ins.

The browser holds random tokens; the tables hold their SHA-256 digests, so a copy of the database opens
no session.

The throttle makes guessing dearer for the guesser, never for the patient. A lock on a login name that
anyone can renew is an account anyone can hold shut: one wrong password each time the lock ended used to
keep the patient out of every new device for good. So failures are counted against three things:

- the login name ("name:"): a counter only, it never locks. Past FREE_FAILURES it marks the name as
  under attack, which takes away the free attempts of every address that then fails against it;
- the login name from one network address ("from:"): this is what locks. FREE_FAILURES free attempts,
  none while the name is under attack, then 1, 2, 4, 8 ... minutes, doubling up to ATTACKER_LOCK_CAP,
  so the guesser's own pace keeps falling (a dozen guesses a day instead of one every quarter hour);
- the network address ("address:"): one machine spraying many names, ADDRESS_FREE_FAILURES free, then
  doubling the same way.

The patient, from a device or an address that has not failed against their name, is therefore never
stopped by strangers' failures: they prove who they are with the password and then the second factor,
as always. A patient who mistypes while the name is under attack waits 1 minute, then 2 ... from that
address only. What a distributed guesser gains (one try per fresh address while the name is under
attack, then the same doubling) still opens nothing: every sign-in needs the second factor too.
A device that has signed in before ("device:") keeps its own count, as do activation and recovery,
locked as before for at most LOCK_CAP. Failures are forgotten FORGET_AFTER the last one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import ColumnElement, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from carnet.identity.models import (
    ActivationCode,
    FormSubmission,
    KnownDevice,
    LoginSession,
    LoginThrottle,
    PatientAccount,
)
from carnet.kit import clock
from carnet.kit.errors import TooManyAttempts, Unauthenticated
from carnet.kit.secrets import digest, new_token

SubjectKind = Literal["patient", "operator"]

PENDING_LIFETIME = timedelta(minutes=10)  # between the password and the second factor
IDLE_TIMEOUT: dict[str, timedelta] = {"patient": timedelta(minutes=30), "operator": timedelta(minutes=15)}
ABSOLUTE_LIFETIME: dict[str, timedelta] = {"patient": timedelta(hours=12), "operator": timedelta(hours=8)}
RECENT_AUTHENTICATION = timedelta(minutes=5)  # for closing or destroying a record
DEVICE_LIFETIME = timedelta(days=180)
TOUCH_EVERY = timedelta(minutes=1)

FREE_FAILURES = 5  # per login name from one address, or per device, before the first lock
ADDRESS_FREE_FAILURES = 30  # per network address: one machine spraying many names
LOCK_BASE = timedelta(minutes=1)
LOCK_CAP = timedelta(minutes=15)  # devices, activation and recovery
ATTACKER_LOCK_CAP = timedelta(hours=12)  # a name from one address, and an address: the guesser's side
FORGET_AFTER = timedelta(hours=24)  # failures older than this no longer count (longer than any lock)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    subject_kind: str
    subject_id: uuid.UUID
    authenticated_at: datetime
    expires_at: datetime
    started_at: datetime  # when the sign-in that opened it completed: "this visit" began then
    acting_for: uuid.UUID | None = None  # a legal representative's: the minor's record shown, not their own


def start(
    session: Session, subject_kind: SubjectKind, subject_id: uuid.UUID, *, stage: str, address: str
) -> tuple[str, LoginSession]:
    """A new session row; the token is returned once, to go in the cookie."""
    token, now = new_token(), clock.now()
    lifetime = PENDING_LIFETIME if stage == "second-factor" else ABSOLUTE_LIFETIME[subject_kind]
    row = LoginSession(
        token_hash=digest(token),
        subject_kind=subject_kind,
        subject_id=subject_id,
        stage=stage,
        created_at=now,
        last_seen_at=now,
        expires_at=now + lifetime,
        authenticated_at=now,
        code_hash=None,
        code_expires_at=None,
        code_attempts=0,
        address=address[:64],
        revoked_at=None,
    )
    session.add(row)
    return token, row


def pending(session: Session, token: str) -> LoginSession:
    """The half-done sign-in waiting for its second factor, locked for this request."""
    row = session.scalars(
        select(LoginSession)
        .where(LoginSession.token_hash == digest(token), LoginSession.stage == "second-factor")
        .with_for_update()
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        raise Unauthenticated("This sign-in has expired: start again with your password.", code="sign-in-expired")
    return row


def resolve(session: Session, token: str, subject_kind: SubjectKind) -> ActiveSession:
    """The active session behind a cookie, kept alive by this request; refused once idle or past its end."""
    now = clock.now()
    row = session.get(LoginSession, digest(token))
    if (
        row is None
        or row.subject_kind != subject_kind
        or row.stage != "active"
        or row.revoked_at is not None
        or row.expires_at <= now
        or row.last_seen_at + IDLE_TIMEOUT[subject_kind] <= now
    ):
        raise Unauthenticated("Your session has ended: sign in again.", code="session-ended")
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(
        row.subject_kind, row.subject_id, row.authenticated_at, row.expires_at, row.created_at, row.acting_for
    )


def act_for(session: Session, token: str, patient_id: uuid.UUID | None) -> None:
    """The record this session shows: a minor's its holder represents (the caller checked), or their own (None)."""
    session.execute(update(LoginSession).where(LoginSession.token_hash == digest(token)).values(acting_for=patient_id))


def require_recent(active: ActiveSession) -> None:
    """Sensitive actions (closing or destroying the record) need the password again, freshly."""
    if clock.now() - active.authenticated_at > RECENT_AUTHENTICATION:
        raise Unauthenticated(
            "Confirm it is you: enter your password again before this action.", code="reauthentication-required"
        )


def reauthenticated(session: Session, token: str) -> None:
    session.execute(
        update(LoginSession).where(LoginSession.token_hash == digest(token)).values(authenticated_at=clock.now())
    )


def end(session: Session, token: str) -> None:
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == digest(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


def end_all(session: Session, subject_kind: SubjectKind, subject_id: uuid.UUID) -> int:
    """Every session of the account, and its known devices: after a lost phone or a password reset."""
    ended = session.scalars(
        update(LoginSession)
        .where(
            LoginSession.subject_kind == subject_kind,
            LoginSession.subject_id == subject_id,
            LoginSession.revoked_at.is_(None),
        )
        .values(revoked_at=clock.now())
        .returning(LoginSession.token_hash)
    ).all()
    session.execute(
        delete(KnownDevice).where(KnownDevice.subject_kind == subject_kind, KnownDevice.subject_id == subject_id)
    )
    return len(ended)


def remember_device(session: Session, subject_kind: SubjectKind, subject_id: uuid.UUID) -> str:
    token, now = new_token(), clock.now()
    session.add(
        KnownDevice(
            token_hash=digest(token),
            subject_kind=subject_kind,
            subject_id=subject_id,
            created_at=now,
            expires_at=now + DEVICE_LIFETIME,
        )
    )
    return token


def known_device(session: Session, token: str | None, subject_kind: SubjectKind, subject_id: uuid.UUID | None) -> bool:
    if not token or subject_id is None:
        return False
    row = session.get(KnownDevice, digest(token))
    return (
        row is not None
        and row.subject_kind == subject_kind
        and row.subject_id == subject_id
        and row.expires_at > clock.now()
    )


def forget_patient(session: Session, patient_id: uuid.UUID) -> None:
    """A destroyed record's account: sessions, devices, reset tokens and activation codes, all deleted."""
    account_id = session.scalar(select(PatientAccount.id).where(PatientAccount.patient_id == patient_id))
    if account_id is not None:
        end_all(session, "patient", account_id)
        session.execute(delete(LoginSession).where(LoginSession.subject_id == account_id))
        session.execute(delete(PatientAccount).where(PatientAccount.id == account_id))
    session.execute(delete(ActivationCode).where(ActivationCode.patient_id == patient_id))


# The throttle. Keys: "name:<digest of the login name>", "from:<digest of name and address>", "device:<digest>",
# "address:<ip>", "activation:<digest>", "recovery:<digest>".


def throttle_key(kind: str, value: str) -> str:
    if kind == "address":
        return f"address:{value[:64]}"
    return f"{kind}:{digest(value).hex()[:40]}"


def name_from_address_key(name: str, address: str) -> str:
    """The key of one login name tried from one network address: what the guesser's lock rests on."""
    return throttle_key("from", f"{name}\n{address[:64]}")


def check_throttle(session: Session, keys: list[str]) -> None:
    """Refuse at once while any of these keys is locked; say for how long."""
    now = clock.now()
    until = session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now
        )
    )
    if until is not None:
        wait = max(1, int((until - now).total_seconds()) + 1)
        raise TooManyAttempts(
            f"Too many failed attempts: try again in {_minutes(wait)}, or reset your password.", retry_after=wait
        )


def record_failure(session: Session, keys: list[str]) -> None:
    """Count a failure against each key, and lock those past their free attempts (see the module's rules)."""
    now = clock.now()
    counted = {key: _count_failure(session, key, now) for key in keys}
    under_attack = any(key.startswith("name:") and n > FREE_FAILURES for key, n in counted.items())
    for key, failures in counted.items():
        lock = _lock(key, failures, under_attack=under_attack)
        if lock is not None:
            session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=now + lock))


def _count_failure(session: Session, key: str, now: datetime) -> int:
    failures = session.scalar(
        insert(LoginThrottle)
        .values(key=key, failures=1, last_failure_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={"failures": _failures_after(now), "last_failure_at": now},
        )
        .returning(LoginThrottle.failures)
    )
    return failures or 1


def _lock(key: str, failures: int, *, under_attack: bool) -> timedelta | None:
    """How long this key locks after its latest failure; None: not at all."""
    if key.startswith("name:"):
        return None  # a counter: a lock on the name alone would be a lock strangers hold on the patient
    if key.startswith("from:"):
        free, cap = (0 if under_attack else FREE_FAILURES), ATTACKER_LOCK_CAP
    elif key.startswith("address:"):
        free, cap = ADDRESS_FREE_FAILURES, ATTACKER_LOCK_CAP
    else:
        free, cap = FREE_FAILURES, LOCK_CAP
    if failures <= free:
        return None
    lock: timedelta = LOCK_BASE * 2 ** min(failures - free - 1, 20)
    return min(lock, cap)


def _failures_after(now: datetime) -> ColumnElement[int]:
    return case(
        (LoginThrottle.last_failure_at < now - FORGET_AFTER, 1),
        else_=LoginThrottle.failures + 1,
    )


def clear_throttle(session: Session, keys: list[str]) -> None:
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.in_(keys)))


def _minutes(seconds: int) -> str:
    minutes = (seconds + 59) // 60
    return "1 minute" if minutes <= 1 else f"{minutes} minutes"


FORM_KEY_LIFETIME = timedelta(days=1)  # a form left open longer has its CSRF token expired anyway


def first_submission(session: Session, key: str, subject_id: uuid.UUID) -> bool:
    """True the first time a form's one-time key is claimed; False when this form was already sent.

    The key is claimed in the caller's transaction (see FormSubmission); keys older than a day are forgotten
    as new ones come, so the table stays the size of one day's forms."""
    now = clock.now()
    session.execute(delete(FormSubmission).where(FormSubmission.submitted_at < now - FORM_KEY_LIFETIME))
    claimed = session.execute(
        insert(FormSubmission)
        .values(key_hash=digest(key), subject_id=subject_id, submitted_at=now)
        .on_conflict_do_nothing(index_elements=[FormSubmission.key_hash])
        .returning(FormSubmission.key_hash)
    ).first()
    return claimed is not None
