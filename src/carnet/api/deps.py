"""What every route needs: the runtime, a unit of work tagged with the request, the caller's proofs."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

from carnet.context import Context
from carnet.identity.tokens import ExternalIssuer, Principal, TokenIssuer, TokenVerifier
from carnet.kit.errors import Unauthenticated
from carnet.runtime import Runtime
from carnet.settings import Settings

SESSION_COOKIE = "carnet_session"
PENDING_COOKIE = "carnet_pending"
DEVICE_COOKIE = "carnet_device"
OPERATOR_COOKIE = "carnet_operator"


class ErrorOut(BaseModel):
    """Every error of these endpoints: a stable code and a sentence for people."""

    code: str
    message: str


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers a route documents in the OpenAPI description."""
    meanings = {
        400: "The request is malformed.",
        401: "Who is asking is not proven, or the proof does not hold (the code says why).",
        403: "Proven, but not allowed.",
        404: "Not found, or not visible to the caller.",
        409: "Conflicts with the current state.",
        413: "The request body is over the size limit.",
        415: "The body is not in a media type this endpoint reads.",
        422: "An input is not valid (the message says which and why).",
        429: "Too many failed attempts: wait (Retry-After) before trying again.",
        503: "A service Carnet depends on does not answer.",
    }
    return {status: {"model": ErrorOut, "description": meanings[status]} for status in statuses}


# What any request may meet before its endpoint: the input guard's refusals (malformed or oversized input).
EVERY_ROUTE = errors(400, 413)


@dataclass(frozen=True)
class Web:
    """The application's shared parts, built once with the app."""

    runtime: Runtime
    issuer: TokenIssuer
    verifier: TokenVerifier

    @staticmethod
    def issuer_for(settings: Settings) -> TokenIssuer:
        return TokenIssuer(
            key=settings.token_key(),
            issuer=settings.public_url.rstrip("/"),
            audience=settings.token_audience,
            lifetime=timedelta(seconds=settings.token_lifetime_seconds),
        )

    @classmethod
    def build(cls, runtime: Runtime) -> Web:
        settings = runtime.settings
        issuer = cls.issuer_for(settings)
        external = None
        if settings.oidc_issuer and settings.oidc_jwks_url:
            external = ExternalIssuer.at(settings.oidc_issuer, settings.oidc_jwks_url)
        return cls(runtime, issuer, TokenVerifier(issuer, external))


def web(request: Request) -> Web:
    found: Web = request.app.state.web
    return found


def address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def unit(request: Request) -> AbstractContextManager[Context]:
    request_id = request.headers.get("x-request-id", "")[:64] or str(uuid.uuid4())
    return web(request).runtime.unit_of_work(source=address(request), request_id=request_id)


def bearer(request: Request) -> Principal:
    """The principal of the request's bearer token; 401 with the reason otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send an access token: Authorization: Bearer <token>.", code="invalid_request")
    return web(request).verifier.verify(token.strip())


def set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int, path: str = "/") -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=web(request).runtime.settings.cookie_secure,
        httponly=True,
        samesite="strict",
    )


def cookie(request: Request, name: str) -> str:
    value = request.cookies.get(name)
    if not value:
        raise Unauthenticated("You are not signed in.", code="not-signed-in")
    return value
