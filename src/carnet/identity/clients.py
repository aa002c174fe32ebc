"""Registered professional software (OAuth2 clients) and the client-credentials grant of `POST /oauth/token`.

A client is bound to the professional who uses it: its tokens carry that professional's RPPS, profession
and organisation, never one the software chooses. Secrets are 256 random bits, kept as SHA-256 digests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from carnet.access import gate
from carnet.access.actor import Actor, Mode
from carnet.audit.chain import NO_RECORD
from carnet.context import Context
from carnet.identity.models import SoftwareClient
from carnet.identity.tokens import TokenIssuer, parse_scopes
from carnet.kit import clock
from carnet.kit.errors import CarnetError, Invalid
from carnet.kit.identifiers import parse_finess, parse_rpps
from carnet.kit.professions import PROFESSIONS
from carnet.kit.secrets import digest, new_token, same

_NO_CLIENT = digest("no client has this secret")


class OAuthError(CarnetError):
    """An error of the token endpoint, in RFC 6749's words (`invalid_client`, `invalid_scope` ...)."""

    def __init__(self, error: str, message: str, *, status: int = 400) -> None:
        super().__init__(message, code=error)
        self.status = status


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class TokenGrant:
    access_token: str
    expires_in: int
    scope: str
    token_type: str = "Bearer"  # noqa: S105 (the OAuth2 token type, not a secret)


def register_client(
    ctx: Context, *, name: str, rpps: str, profession: str, organisation: str | None, scopes: str
) -> RegisteredClient:
    """Register software for one professional; the secret is shown once."""
    name = name.strip()
    if not 1 <= len(name) <= 120:
        raise Invalid("Name the software in 1 to 120 characters.", code="invalid-name")
    if profession not in PROFESSIONS:
        raise Invalid(f"Unknown profession code '{profession}'.", code="invalid-profession")
    allowed = parse_scopes(scopes)
    if not allowed:
        raise Invalid("Give the scopes this software may ask for.", code="invalid_scope")
    client = RegisteredClient(f"carnet-{secrets.token_hex(8)}", new_token())
    ctx.session.add(
        SoftwareClient(
            client_id=client.client_id,
            name=name,
            secret_hash=digest(client.client_secret).hex(),
            rpps=parse_rpps(rpps),
            profession=profession,
            organisation=parse_finess(organisation) if organisation else None,
            scopes=sorted(allowed),
            created_at=clock.now(),
            revoked_at=None,
        )
    )
    ctx.session.flush()
    return client


def client_credentials(
    ctx: Context,
    issuer: TokenIssuer,
    *,
    client_id: str,
    client_secret: str,
    scope: str | None,
    mode: str | None,
    justification: str | None,
    address: str,
) -> TokenGrant:
    """A short-lived access token for the professional bound to this client, with the scopes asked for."""
    row = ctx.session.scalars(
        select(SoftwareClient).where(SoftwareClient.client_id == client_id[:40], SoftwareClient.revoked_at.is_(None))
    ).one_or_none()
    expected = bytes.fromhex(row.secret_hash) if row is not None else _NO_CLIENT
    if not same(expected, digest(client_secret)) or row is None:
        gate.trace_authentication(
            ctx,
            Actor.anonymous(address),
            "token.issue",
            NO_RECORD,
            allowed=False,
            reason="bad-client",
            subject=f"client:{client_id[:40]}",
        )
        raise OAuthError("invalid_client", "Unknown client or wrong secret.", status=401)
    try:
        asked = parse_scopes(scope) if scope else frozenset(row.scopes)
    except Invalid as exc:
        raise OAuthError("invalid_scope", exc.message) from None
    beyond = sorted(asked - set(row.scopes))
    if beyond:
        raise OAuthError("invalid_scope", f"This software may not ask for: {' '.join(beyond)}.")
    try:
        access_mode = Mode(mode or Mode.NORMAL.value)
    except ValueError:
        raise OAuthError("invalid_request", f"access_mode is one of: {', '.join(m.value for m in Mode)}.") from None
    purpose = (justification or "").strip() or None
    if access_mode in (Mode.EMERGENCY, Mode.REGULATION) and (purpose is None or len(purpose) < 10):
        raise OAuthError(
            "invalid_request",
            "An emergency or regulation access needs a written justification (10 characters or more).",
        )
    if purpose is not None and len(purpose) > 500:
        raise OAuthError("invalid_request", "A justification has at most 500 characters.")
    token = issuer.for_professional(
        rpps=row.rpps,
        profession=row.profession,
        organisation=row.organisation,
        scopes=asked,
        mode=access_mode,
        purpose=purpose,
        client_id=row.client_id,
    )
    professional = Actor.professional(row.rpps, row.profession, row.organisation, access_mode)
    gate.trace_authentication(
        ctx,
        professional,
        "token.issue",
        NO_RECORD,
        allowed=True,
        reason="client-credentials",
        subject=f"client:{row.client_id}",
    )
    lifetime: timedelta = issuer.lifetime
    return TokenGrant(token, int(lifetime.total_seconds()), " ".join(sorted(asked)))
