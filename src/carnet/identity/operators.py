"""Operator accounts: staff who run Carnet. Password plus TOTP, roles, their own sessions.

An operator is an Actor of its own kind: the access rules name no action on a record for it, so every
service touching patient data refuses it. Operators see statistics, the audit trail's integrity and keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import pyotp
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.audit.chain import NO_RECORD
from carnet.context import Context
from carnet.identity import otp, sessions
from carnet.identity.accounts import BAD_CREDENTIALS, Step
from carnet.identity.models import OperatorAccount
from carnet.identity.passwords import check_strength, hash_password, spend_verification_time, verify_password
from carnet.kit import clock
from carnet.kit.crypto import new_data_key
from carnet.kit.errors import CarnetError, Conflict, Forbidden, Invalid, Unauthenticated
from carnet.records import repository as records_repository

ROLES = frozenset({"statistics", "audit", "keys", "accounts"})


@dataclass(frozen=True, slots=True)
class NewOperator:
    id: uuid.UUID
    login: str
    totp_secret: str
    totp_uri: str


@dataclass(frozen=True, slots=True)
class OperatorView:
    id: uuid.UUID
    login: str
    roles: list[str]


def _aad(operator_id: uuid.UUID) -> str:
    return f"operator_accounts.totp:{operator_id}"


def create_operator(ctx: Context, *, login: str, password: str, roles: Sequence[str]) -> NewOperator:
    """A new operator account (from the CLI, by whoever runs the servers); its TOTP seed is shown once."""
    login = login.strip().lower()
    if not (3 <= len(login) <= 64) or not login.replace(".", "").replace("-", "").isalnum():
        raise Invalid("An operator login has 3 to 64 letters, digits, dots or dashes.", code="invalid-login")
    unknown = sorted(set(roles) - ROLES)
    if unknown or not roles:
        raise Invalid(f"Roles: choose among {', '.join(sorted(ROLES))}.", code="invalid-role")
    check_strength(password, personal=[login])
    if login_in_use(ctx, login):
        raise Conflict("This operator login is taken.", code="login-taken")
    operator_id, secret, key = uuid.uuid4(), pyotp.random_base32(), new_data_key()
    master = ctx.keys.current()
    records_repository.register_master_key(ctx.session, master.key_id, clock.now())
    ctx.session.add(
        OperatorAccount(
            id=operator_id,
            login=login,
            password_hash=hash_password(password),
            roles=sorted(set(roles)),
            master_key_id=master.key_id,
            wrapped_key=master.wrap(key, context=f"operator:{operator_id}"),
            totp_secret_ct=key.encrypt_text(secret, aad=_aad(operator_id)),
            created_at=clock.now(),
            disabled_at=None,
        )
    )
    ctx.session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=login, issuer_name="Carnet operations")
    return NewOperator(operator_id, login, secret, uri)


def keys_by_master(session: Session) -> dict[str, int]:
    """How many operators' second-factor keys each master key id wraps (for `carnet keys status`)."""
    statement = select(OperatorAccount.master_key_id, func.count()).group_by(OperatorAccount.master_key_id)
    return {str(key_id): int(count) for key_id, count in session.execute(statement)}


def login_in_use(ctx: Context, login: str) -> bool:
    name = login.strip().lower()
    return ctx.session.scalars(select(OperatorAccount.id).where(OperatorAccount.login == name)).first() is not None


def _secret(ctx: Context, row: OperatorAccount) -> str:
    key = ctx.keys.get(row.master_key_id).unwrap(row.wrapped_key, context=f"operator:{row.id}")
    return key.decrypt_text(row.totp_secret_ct, aad=_aad(row.id))


def _code_accepted(ctx: Context, row: OperatorAccount, code: str) -> bool:
    return otp.accept(ctx.session, OperatorAccount, row.id, _secret(ctx, row), code, clock.now())


def sign_in(ctx: Context, *, login: str, password: str, code: str, address: str) -> Step:
    """Password and TOTP in one step; unknown login and wrong password answer and cost the same."""
    name = login.strip().lower()
    if not name or len(name) > 64 or not password or len(password) > 1024:
        raise Invalid("Give your login, your password and your code.", code="invalid-credentials")
    # As for patients (identity/sessions.py): the name alone only counts, the name from one address locks,
    # so a stranger's failures slow the stranger, never the operator at their own desk.
    checked = [sessions.name_from_address_key(f"operator\n{name}", address), sessions.throttle_key("address", address)]
    keys = [sessions.throttle_key("name", f"operator\n{name}"), *checked]
    anonymous = Actor.anonymous(address)
    try:
        sessions.check_throttle(ctx.session, checked)
    except CarnetError as locked:
        gate.trace_authentication(ctx, anonymous, "operator.login", NO_RECORD, allowed=False, reason="locked")
        return Step(refusal=locked)
    row = ctx.session.scalars(
        select(OperatorAccount).where(OperatorAccount.login == name, OperatorAccount.disabled_at.is_(None))
    ).one_or_none()
    good = spend_verification_time(password) if row is None else verify_password(row.password_hash, password)
    code = "".join(code.split())
    if (
        row is None
        or not good
        or not otp.accept(ctx.session, OperatorAccount, row.id, _secret(ctx, row), code, clock.now())
    ):
        sessions.record_failure(ctx.session, keys)
        gate.trace_authentication(
            ctx, anonymous, "operator.login", NO_RECORD, allowed=False, reason="bad-credentials", subject=name
        )
        return Step(refusal=Unauthenticated(BAD_CREDENTIALS, code="bad-credentials"))
    token, _ = sessions.start(ctx.session, "operator", row.id, stage="active", address=address)
    sessions.clear_throttle(ctx.session, checked[:1])  # the name's count stays: it is the strangers' record
    operator = Actor.operator(row.id)
    gate.trace_authentication(
        ctx, operator, "operator.login", NO_RECORD, allowed=True, reason="signed-in", subject=name
    )
    return Step(session_token=token)


def operator_of_session(ctx: Context, token: str) -> tuple[Actor, OperatorView]:
    active = sessions.resolve(ctx.session, token, "operator")
    row = ctx.session.get(OperatorAccount, active.subject_id)
    if row is None or row.disabled_at is not None:
        raise Unauthenticated("Your session has ended: sign in again.", code="session-ended")
    return Actor.operator(row.id), OperatorView(row.id, row.login, list(row.roles))


def require_role(view: OperatorView, role: str) -> None:
    if role not in view.roles:
        raise Forbidden(f"Your account does not have the {role} role.", code="missing-role")
