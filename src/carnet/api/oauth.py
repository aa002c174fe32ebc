"""The OAuth2 token endpoint and the built-in issuer's published keys (OpenID-Connect style discovery)."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from carnet.api.deps import address, unit, web
from carnet.identity.clients import OAuthError, client_credentials
from carnet.identity.tokens import ALGORITHMS

router = APIRouter(tags=["tokens"])


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)
    expires_in: int
    scope: str


class OAuthErrorOut(BaseModel):
    error: str = Field(description="invalid_request, invalid_client, invalid_grant, unsupported_grant_type ...")
    error_description: str


_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorOut, "description": "RFC 6749 §5.2: a bad grant, scope or parameter."},
    401: {"model": OAuthErrorOut, "description": "Unknown client or wrong secret (invalid_client)."},
}


def oauth_error(exc: OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="carnet"'
    return JSONResponse({"error": exc.code, "error_description": exc.message}, status_code=exc.status, headers=headers)


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        client_id, sep, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_client", "The Basic authorization header is malformed.", status=401) from None
    if "\x00" in client_id or "\x00" in secret:
        raise OAuthError("invalid_client", "The Basic authorization header holds a NUL character.", status=401)
    return (client_id, secret) if sep else None


@router.post("/oauth/token", response_model=TokenOut, responses=_OAUTH_ERRORS)
def token(
    request: Request,
    grant_type: Annotated[str | None, Form(max_length=100)] = None,
    client_id: Annotated[str | None, Form(max_length=100)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
    scope: Annotated[str | None, Form(max_length=2000)] = None,
    access_mode: Annotated[
        str | None, Form(max_length=20, description="normal, emergency, regulation or deposit-only")
    ] = None,
    justification: Annotated[
        str | None, Form(max_length=2000, description="Why: required for emergency and regulation")
    ] = None,
) -> JSONResponse:
    """Client credentials for registered software: a short-lived token for the professional it is bound to.

    Client authentication by HTTP Basic or by `client_id` and `client_secret` in the form.
    """
    try:
        if not grant_type:
            raise OAuthError("invalid_request", "Say which grant: grant_type=client_credentials.")
        if grant_type != "client_credentials":
            raise OAuthError("unsupported_grant_type", "Carnet issues tokens for grant_type=client_credentials.")
        basic = _basic(request)
        if basic is not None:
            client_id, client_secret = basic
        if not client_id or not client_secret:
            raise OAuthError(
                "invalid_client", "Authenticate the client (HTTP Basic, or client_id and client_secret).", status=401
            )
        with unit(request) as ctx:
            grant = client_credentials(
                ctx,
                web(request).issuer,
                client_id=client_id,
                client_secret=client_secret,
                scope=scope,
                mode=access_mode,
                justification=justification,
                address=address(request),
            )
    except OAuthError as exc:
        return oauth_error(exc)
    body = TokenOut(access_token=grant.access_token, expires_in=grant.expires_in, scope=grant.scope)
    return JSONResponse(body.model_dump(), headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/.well-known/jwks.json")
def jwks(request: Request) -> dict[str, list[dict[str, str]]]:
    """The public keys access tokens of the built-in issuer are signed with."""
    return web(request).issuer.jwks()


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, object]:
    """Where the built-in issuer's endpoints and keys are (OpenID Connect discovery, token part only)."""
    issuer = web(request).issuer.issuer
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "id_token_signing_alg_values_supported": list(ALGORITHMS),
        "scopes_supported": ["user/*.read", "user/*.write", "patient/*.read", "patient/*.write"],
    }
