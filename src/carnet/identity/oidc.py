"""Signing professionals in through their identity provider: OpenID Connect's authorization code flow with PKCE.

`begin` gives the provider's authorization address (from its discovery document) and what the browser must
bring back: a random `state` (this sign-in, not one an attacker started), a `nonce` the ID token must carry
(this token, not a replayed one) and the PKCE verifier whose S256 challenge went out (RFC 7636). `finish`
exchanges the code at the token endpoint, verifies the ID token (the provider's published key, its one
algorithm, iss, aud, exp, iat, nonce) and maps its claims to a StaffIdentity. Each refusal is `Unauthenticated`
with a sentence the sign-in page shows; a provider that cannot be reached is `Unavailable`.

The claims Carnet reads are named by settings, since providers name them differently: by default `rpps`,
`profession` and `organisation` (the names of the API's external tokens, identity.tokens), the display name from
`name` or `given_name` + `family_name`. Pro Santé Connect gives the national identifier in `SubjectNameID`
("8" followed by the RPPS number): set CARNET_OIDC_RPPS_CLAIM=SubjectNameID and the leading 8 is dropped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

import jwt

from carnet.identity.staff import StaffIdentity
from carnet.identity.tokens import ALGORITHMS, LEEWAY
from carnet.kit.errors import CarnetError, Invalid, Unauthenticated, Unavailable
from carnet.kit.identifiers import parse_finess, parse_rpps
from carnet.kit.professions import parse_profession

TIMEOUT = 5
MAX_ANSWER = 256 * 1024
NATIONAL_ID_PREFIX = "8"  # Pro Santé Connect's national identifier of an RPPS-registered professional


@dataclass(frozen=True, slots=True)
class Claims:
    """Which ID token claims say who the professional is."""

    rpps: str = "rpps"
    profession: str = "profession"
    organisation: str = "organisation"


@dataclass(frozen=True, slots=True)
class Provider:
    """The configured identity provider and Carnet's registration with it."""

    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    jwks_url: str | None = None  # the discovery document's jwks_uri when not set
    claims: Claims = Claims()
    scope: str = "openid"


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in begun in this browser: what the provider's answer must match."""

    state: str
    nonce: str
    verifier: str

    def dumps(self) -> str:
        return base64.urlsafe_b64encode(json.dumps([self.state, self.nonce, self.verifier]).encode()).decode()

    @classmethod
    def loads(cls, text: str) -> Pending | None:
        try:
            state, nonce, verifier = json.loads(base64.urlsafe_b64decode(text.encode()))
        except (ValueError, TypeError):
            return None
        if not all(isinstance(v, str) and 20 <= len(v) <= 128 for v in (state, nonce, verifier)):
            return None
        return cls(state, nonce, verifier)


def _fetch(request: urllib.request.Request | str) -> dict[str, Any]:
    """A JSON answer of the provider's, or Unavailable (a provider down is not the professional's mistake)."""
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310 (configured https URLs)
            body = answer.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        if exc.code in (400, 401):  # the token endpoint refuses the code: spent, expired, or not ours
            raise Unauthenticated(
                "The identity provider refused this sign-in: start again.", code="oidc-refused"
            ) from None
        raise Unavailable("The identity provider cannot be reached right now; try again.") from None
    except (urllib.error.URLError, TimeoutError, OSError):
        raise Unavailable("The identity provider cannot be reached right now; try again.") from None
    try:
        found = json.loads(body)
    except ValueError:
        raise Unavailable("The identity provider cannot be reached right now; try again.") from None
    if not isinstance(found, dict):
        raise Unavailable("The identity provider cannot be reached right now; try again.")
    return found


def discovery(provider: Provider) -> dict[str, Any]:
    document = _fetch(provider.issuer.rstrip("/") + "/.well-known/openid-configuration")
    if document.get("issuer") != provider.issuer:
        raise Unavailable("The identity provider's discovery document names another issuer.")
    return document


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


def begin(provider: Provider) -> tuple[str, Pending]:
    """The provider's authorization address for a new sign-in, and what its answer must match."""
    pending = Pending(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48))
    endpoint = discovery(provider).get("authorization_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise Unavailable("The identity provider's discovery document names no authorization endpoint.")
    query = urllib.parse.urlencode(
        {
            "response_type": "code",
            "client_id": provider.client_id,
            "redirect_uri": provider.redirect_uri,
            "scope": provider.scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}", pending


def _refused(message: str, code: str = "oidc-refused") -> Unauthenticated:
    return Unauthenticated(message, code=code)


def finish(provider: Provider, pending: Pending | None, *, state: str, code: str) -> StaffIdentity:
    """The professional the provider proved, once its answer matches the sign-in begun here."""
    if pending is None or not state or not secrets.compare_digest(state.encode(), pending.state.encode()):
        raise _refused("This sign-in did not start here or has expired: start again.", "oidc-state")
    if not code:
        raise _refused("The identity provider refused this sign-in: start again.")
    document = discovery(provider)
    token_endpoint = document.get("token_endpoint")
    if not isinstance(token_endpoint, str):
        raise Unavailable("The identity provider's discovery document names no token endpoint.")
    form = urllib.parse.urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": provider.redirect_uri,
            "code_verifier": pending.verifier,
        }
    ).encode()
    basic = base64.b64encode(
        f"{urllib.parse.quote(provider.client_id)}:{urllib.parse.quote(provider.client_secret)}".encode()
    ).decode()
    request = urllib.request.Request(  # noqa: S310 (the configured issuer's endpoint)
        token_endpoint,
        data=form,
        headers={"Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    id_token = _fetch(request).get("id_token")
    if not isinstance(id_token, str):
        raise _refused("The identity provider sent no identity: start again.")
    jwks_url = provider.jwks_url or document.get("jwks_uri")
    if not isinstance(jwks_url, str):
        raise Unavailable("The identity provider's discovery document names no keys.")
    claims = verified(provider, jwks_url, id_token, pending.nonce)
    return identity_of(provider.claims, claims)


def verified(provider: Provider, jwks_url: str, id_token: str, nonce: str) -> dict[str, Any]:
    """The ID token's claims, once its signature, issuer, audience, times and nonce hold."""
    try:
        key = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=TIMEOUT).get_signing_key_from_jwt(
            id_token
        )
    except jwt.PyJWKClientConnectionError:
        raise Unavailable("The identity provider cannot be reached right now; try again.") from None
    except jwt.PyJWTError:
        raise _refused("The identity provider's answer is not signed by its keys: start again.") from None
    if key.algorithm_name not in ALGORITHMS:
        raise _refused("The identity provider's answer is not signed by its keys: start again.")
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key.key,
            algorithms=[key.algorithm_name],
            audience=provider.client_id,
            issuer=provider.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.ExpiredSignatureError:
        raise _refused("This sign-in has expired: start again.", "oidc-expired") from None
    except jwt.InvalidSignatureError:
        raise _refused("The identity provider's answer is not signed by its keys: start again.") from None
    except (jwt.PyJWTError, TypeError, ValueError):
        raise _refused("The identity provider's answer is not valid: start again.") from None
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), nonce.encode()):
        raise _refused("This sign-in did not start here or has expired: start again.", "oidc-nonce")
    return claims


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    return value.strip() if isinstance(value, str) else ""


def identity_of(names: Claims, claims: dict[str, Any]) -> StaffIdentity:
    """The professional the ID token names; a missing or malformed RPPS or profession refuses the sign-in."""
    rpps = _text(claims, names.rpps)
    if len(rpps) == 12 and rpps.startswith(NATIONAL_ID_PREFIX):
        rpps = rpps[1:]
    try:
        number = parse_rpps(rpps)
        profession = parse_profession(_text(claims, names.profession))
        organisation = _text(claims, names.organisation)
        finess = parse_finess(organisation) if organisation else None
    except (Invalid, CarnetError):
        raise _refused(
            "Your identity provider did not say your RPPS number and your profession: Carnet cannot sign you in.",
            "oidc-claims",
        ) from None
    name = _text(claims, "name") or " ".join(
        p for p in (_text(claims, "given_name"), _text(claims, "family_name")) if p
    )
    return StaffIdentity("professional", number, name or number, profession, finess)
