"""Patients' and operators' sign-in over HTTP: activation, password, second factor, sessions, recovery."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from carnet.api.deps import (
    DEVICE_COOKIE,
    OPERATOR_COOKIE,
    PENDING_COOKIE,
    SESSION_COOKIE,
    address,
    bearer,
    cookie,
    errors,
    set_cookie,
    unit,
    web,
)
from carnet.identity import accounts, operators, sessions
from carnet.identity.accounts import Activation, Step
from carnet.identity.tokens import OPERATOR_SCOPES, PATIENT_SCOPES
from carnet.records.service import close_record, request_destruction

router = APIRouter(tags=["sign-in"])
Secret = Annotated[str, Field(min_length=1, max_length=1024, repr=False)]


class ActivationIn(BaseModel):
    nir: Annotated[str, Field(max_length=32, description="Social security number, 13 digits, key optional.")]
    card_serial: Annotated[str, Field(max_length=20, description="The serial printed on the carte Vitale.")]
    activation_code: Annotated[str, Field(max_length=32, description="The one-time code handed over at opening.")]
    login: Annotated[str, Field(max_length=254, description="A login of your choosing, or your e-mail address.")]
    password: Secret
    second_factor: Literal["totp", "email", "sms"]
    email: Annotated[str | None, Field(max_length=254)] = None
    phone: Annotated[str | None, Field(max_length=20)] = None


class ActivationOut(BaseModel):
    second_factor: str
    totp_uri: str | None = Field(None, description="otpauth:// URI for an authenticator app (TOTP only).")


class LoginIn(BaseModel):
    login: Annotated[str, Field(max_length=254)]
    password: Secret


class LoginOut(BaseModel):
    second_factor: str = Field(description="What the next step asks for: totp, email or sms.")
    warning: str | None = None


class CodeIn(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=12)]


class PasswordIn(BaseModel):
    password: Secret


class RecoveryIn(BaseModel):
    login: Annotated[str, Field(max_length=254)]


class RecoveryCompleteIn(BaseModel):
    token: Annotated[str, Field(min_length=1, max_length=128, repr=False)]
    password: Secret


class SessionOut(BaseModel):
    kind: str
    patient_id: str | None = None
    login: str | None = None
    roles: list[str] | None = None
    expires_at: str | None = None


class OperatorLoginIn(BaseModel):
    login: Annotated[str, Field(max_length=64)]
    password: Secret
    code: Annotated[str, Field(min_length=1, max_length=12)]


def _given(value: str | None) -> str:
    """A value a successful step always carries."""
    if value is None:
        raise RuntimeError("a successful sign-in step came back without its token")
    return value


def _raise(step: Step) -> Step:
    """Refusals are raised once the unit of work committed the failure count and its audit entry."""
    if step.refusal is not None:
        raise step.refusal
    return step


@router.post("/auth/activate", status_code=status.HTTP_201_CREATED, responses=errors(401, 409, 422, 429))
def activate(body: ActivationIn, request: Request) -> ActivationOut:
    """First activation of a patient's account: NIR, carte Vitale serial and the one-time activation code."""
    form = Activation(
        nir=body.nir,
        card_serial=body.card_serial,
        code=body.activation_code,
        login=body.login,
        password=body.password,
        second_factor=body.second_factor,
        email=body.email,
        phone=body.phone,
    )
    with unit(request) as ctx:
        step = accounts.activate(ctx, form, address=address(request))
    _raise(step)
    return ActivationOut(second_factor=step.second_factor or body.second_factor, totp_uri=step.totp_uri)


@router.post("/auth/login", responses=errors(401, 422, 429))
def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """The password step. The same answer, in the same time, for an unknown login and a wrong password."""
    device = request.cookies.get(DEVICE_COOKIE)
    with unit(request) as ctx:
        step = accounts.sign_in(ctx, login=body.login, password=body.password, address=address(request), device=device)
    _raise(step)
    max_age = int(sessions.PENDING_LIFETIME.total_seconds())
    set_cookie(request, response, PENDING_COOKIE, _given(step.session_token), max_age=max_age, path="/auth")
    return LoginOut(second_factor=_given(step.second_factor), warning=step.extra.get("warning"))


@router.post("/auth/login/second-factor", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 422, 429))
def login_second_factor(body: CodeIn, request: Request, response: Response) -> None:
    """The second factor: the authenticator app's code, or the code sent by e-mail or SMS."""
    pending = cookie(request, PENDING_COOKIE)
    with unit(request) as ctx:
        step = accounts.second_factor(ctx, pending_token=pending, code=body.code, address=address(request))
    _raise(step)
    response.delete_cookie(PENDING_COOKIE, path="/auth")
    lifetime = int(sessions.ABSOLUTE_LIFETIME["patient"].total_seconds())
    set_cookie(request, response, SESSION_COOKIE, _given(step.session_token), max_age=lifetime)
    device_age = int(sessions.DEVICE_LIFETIME.total_seconds())
    set_cookie(request, response, DEVICE_COOKIE, _given(step.device_token), max_age=device_age, path="/auth")


class WhoOut(BaseModel):
    kind: str
    ref: str
    profession: str | None = None
    organisation: str | None = None
    mode: str
    scopes: list[str]
    purpose: str | None = None
    issuer: str
    expires_at: str


@router.get("/me", responses=errors(401, 503))
def whoami(request: Request) -> WhoOut:
    """Who the bearer token speaks for, as Carnet understood it: a check for software integrators."""
    principal = bearer(request)
    actor = principal.actor
    return WhoOut(
        kind=actor.kind.value,
        ref=actor.ref,
        profession=actor.profession,
        organisation=actor.organisation,
        mode=actor.mode.value,
        scopes=sorted(principal.scopes),
        purpose=principal.purpose,
        issuer=principal.issuer,
        expires_at=principal.expires_at.isoformat(),
    )


class BearerOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int
    scope: str


def _bearer_out(request: Request, token: str, scope: str) -> BearerOut:
    lifetime = int(web(request).issuer.lifetime.total_seconds())
    return BearerOut(access_token=token, expires_in=lifetime, scope=" ".join(sorted(scope.split())))


@router.post("/auth/token", responses=errors(401))
def patient_token(request: Request) -> BearerOut:
    """A short-lived bearer token for the signed-in patient's own record, for the FHIR API (a patient's app)."""
    with unit(request) as ctx:
        actor, _ = accounts.patient_of_session(ctx, cookie(request, SESSION_COOKIE))
    return _bearer_out(request, web(request).issuer.for_patient(uuid.UUID(actor.ref)), PATIENT_SCOPES)


@router.get("/auth/session", responses=errors(401))
def current_session(request: Request) -> SessionOut:
    """Who the session cookie signs in."""
    with unit(request) as ctx:
        actor, active = accounts.patient_of_session(ctx, cookie(request, SESSION_COOKIE))
    return SessionOut(kind="patient", patient_id=actor.ref, expires_at=active.expires_at.isoformat())


@router.post("/auth/reauthenticate", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 422, 429))
def reauthenticate(body: PasswordIn, request: Request) -> None:
    """The password again, before a sensitive action (closing or destroying the record) in the next 5 minutes."""
    token = cookie(request, SESSION_COOKIE)
    with unit(request) as ctx:
        step = accounts.reauthenticate(ctx, token=token, password=body.password, address=address(request))
    _raise(step)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401))
def logout(request: Request, response: Response) -> None:
    with unit(request) as ctx:
        accounts.sign_out(ctx, token=cookie(request, SESSION_COOKIE), everywhere=False)
    response.delete_cookie(SESSION_COOKIE)


@router.post("/auth/logout-everywhere", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401))
def logout_everywhere(request: Request, response: Response) -> None:
    """End every session of the account on every device (a lost phone), and forget the known devices."""
    with unit(request) as ctx:
        accounts.sign_out(ctx, token=cookie(request, SESSION_COOKIE), everywhere=True)
    response.delete_cookie(SESSION_COOKIE)


@router.post("/auth/recovery", status_code=status.HTTP_202_ACCEPTED, responses=errors(422, 429))
def recovery(body: RecoveryIn, request: Request) -> dict[str, str]:
    """Ask for a reset link, sent to the account's own address. The answer never says whether it exists."""
    link = web(request).runtime.settings.public_url.rstrip("/") + "/recover"
    with unit(request) as ctx:
        accounts.request_recovery(ctx, login=body.login, address=address(request), link_base=link)
    return {"message": "If this login has an account with an address, a reset link is on its way."}


@router.post("/auth/recovery/complete", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 422))
def recovery_complete(body: RecoveryCompleteIn, request: Request) -> None:
    """A new password with the link's token (once). Every session ends; the second factor stays."""
    with unit(request) as ctx:
        step = accounts.complete_recovery(ctx, token=body.token, password=body.password, address=address(request))
    _raise(step)


@router.post("/me/record/close", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 409))
def close_my_record(request: Request) -> None:
    """Close your record (it can be reopened). Needs your password again within the last 5 minutes."""
    with unit(request) as ctx:
        actor, active = accounts.patient_of_session(ctx, cookie(request, SESSION_COOKIE))
        sessions.require_recent(active)
        close_record(ctx, actor, uuid.UUID(actor.ref))


@router.post("/me/record/destruction", status_code=status.HTTP_202_ACCEPTED, responses=errors(401, 409))
def destroy_my_record(request: Request) -> dict[str, str]:
    """Ask for your record's destruction: it closes now and is destroyed by the next run. Needs fresh password."""
    with unit(request) as ctx:
        actor, active = accounts.patient_of_session(ctx, cookie(request, SESSION_COOKIE))
        sessions.require_recent(active)
        request_destruction(ctx, actor, uuid.UUID(actor.ref))
    return {"message": "Your record is closed and will be destroyed."}


@router.post("/operator/login", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401, 422, 429))
def operator_login(body: OperatorLoginIn, request: Request, response: Response) -> None:
    """Operators sign in with password and TOTP code together."""
    with unit(request) as ctx:
        step = operators.sign_in(
            ctx, login=body.login, password=body.password, code=body.code, address=address(request)
        )
    _raise(step)
    lifetime = int(sessions.ABSOLUTE_LIFETIME["operator"].total_seconds())
    set_cookie(request, response, OPERATOR_COOKIE, _given(step.session_token), max_age=lifetime)


@router.get("/operator/session", responses=errors(401))
def operator_session(request: Request) -> SessionOut:
    with unit(request) as ctx:
        _, view = operators.operator_of_session(ctx, cookie(request, OPERATOR_COOKIE))
    return SessionOut(kind="operator", login=view.login, roles=view.roles)


@router.post("/operator/token", responses=errors(401, 403))
def operator_token(request: Request) -> BearerOut:
    """A short-lived bearer token to read audit trails through the FHIR API (AuditEvent), for the audit role."""
    with unit(request) as ctx:
        actor, view = operators.operator_of_session(ctx, cookie(request, OPERATOR_COOKIE))
        operators.require_role(view, "audit")
    return _bearer_out(request, web(request).issuer.for_operator(uuid.UUID(actor.ref)), OPERATOR_SCOPES)


@router.post("/operator/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(401))
def operator_logout(request: Request, response: Response) -> None:
    token = cookie(request, OPERATOR_COOKIE)
    with unit(request) as ctx:
        operators.operator_of_session(ctx, token)
        sessions.end(ctx.session, token)
    response.delete_cookie(OPERATOR_COOKIE)
