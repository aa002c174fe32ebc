"""Access tokens for professionals' software (SPEC §5): signed JWTs, short-lived, carrying who is asking.

The built-in issuer signs with Ed25519 (EdDSA) and publishes its key as a JWKS. The verifier accepts its
own tokens and those of one external OpenID Connect issuer (the national professional identity provider
in a real deployment), whose keys it fetches from the issuer's JWKS. Only EdDSA and ES256 signatures are
accepted: "alg": "none", HMAC and RSA tokens are refused before any key is looked at, and each key is
used with its own algorithm only (EdDSA for Carnet's key, the JWK's for the external issuer's). Every token
that does not verify, for whatever reason, is a 401 with the reason, never a 500.
"""

from __future__ import annotations

import base64
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from carnet.access.actor import Actor, Mode
from carnet.kit import clock
from carnet.kit.crypto import SealingKey
from carnet.kit.errors import Invalid, Unauthenticated, Unavailable
from carnet.kit.identifiers import parse_finess, parse_rpps
from carnet.kit.professions import PROFESSIONS

ALGORITHMS = ("EdDSA", "ES256")
LEEWAY = timedelta(seconds=30)
# The FHIR resources Carnet serves: what a SMART scope may name.
RESOURCES = frozenset(
    {
        "Patient",
        "DocumentReference",
        "Binary",
        "AllergyIntolerance",
        "Condition",
        "Observation",
        "MedicationStatement",
        "MedicationRequest",
        "MedicationDispense",
        "Immunization",
        "RelatedPerson",
        "Procedure",
        "FamilyMemberHistory",
        "CareTeam",
        "Basic",
        "Consent",
        "AuditEvent",
        "ExplanationOfBenefit",
    }
)
PATIENT_SCOPES = "patient/*.read patient/*.write"  # a patient's own record, through their app
OPERATOR_SCOPES = "user/AuditEvent.read"  # an auditor: trails, never content
_SCOPE = re.compile(r"^(user|patient|system)/(\*|[A-Z][A-Za-z]+)\.(read|write|\*)$")


def parse_scopes(text: str) -> frozenset[str]:
    """SMART v1 scopes such as `user/DocumentReference.read` or `user/*.write`, checked one by one."""
    scopes = frozenset(text.split())
    for scope in scopes:
        match = _SCOPE.match(scope)
        if match is None or (match.group(2) != "*" and match.group(2) not in RESOURCES):
            raise Invalid(
                f"'{scope[:80]}' is not a scope Carnet knows: write context/Resource.read|write|*, "
                "e.g. user/DocumentReference.read.",
                code="invalid_scope",
            )
    return scopes


def permits(scopes: frozenset[str], context: str, resource: str, access: Literal["read", "write"]) -> bool:
    """Whether the token's scopes cover this access to this resource type."""
    return any(f"{context}/{name}.{what}" in scopes for name in (resource, "*") for what in (access, "*"))


class AccessClaims(BaseModel):
    """What a Carnet access token says, checked like any other input."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    sub: str
    jti: str
    actor: Literal["professional", "patient", "desk", "operator"]
    scope: str = ""
    rpps: str | None = None
    profession: str | None = None
    organisation: str | None = None
    patient: uuid.UUID | None = None
    operator: uuid.UUID | None = None
    staff: str | None = None
    office: str | None = None
    mode: Mode = Mode.NORMAL
    purpose: str | None = None
    client_id: str | None = None

    @field_validator("rpps")
    @classmethod
    def _rpps(cls, value: str | None) -> str | None:
        return None if value is None else parse_rpps(value)

    @field_validator("organisation")
    @classmethod
    def _organisation(cls, value: str | None) -> str | None:
        return None if value is None else parse_finess(value)

    @field_validator("profession")
    @classmethod
    def _profession(cls, value: str | None) -> str | None:
        if value is not None and value not in PROFESSIONS:
            raise ValueError(f"unknown profession code '{value[:8]}'")
        return value


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a verified token speaks for, what it allows, and why (the purpose of use, when given)."""

    actor: Actor
    scopes: frozenset[str]
    issuer: str
    token_id: str
    expires_at: datetime
    purpose: str | None = None
    client_id: str | None = None


def _actor(claims: AccessClaims) -> Actor:
    if claims.actor == "professional":
        if claims.rpps is None or claims.profession is None:
            raise Unauthenticated("A professional's token names their RPPS and profession.", code="invalid_token")
        if claims.mode in (Mode.EMERGENCY, Mode.REGULATION) and not (claims.purpose or "").strip():
            raise Unauthenticated("An emergency or regulation token carries its justification.", code="invalid_token")
        return Actor.professional(claims.rpps, claims.profession, claims.organisation, claims.mode)
    if claims.actor == "patient":
        if claims.patient is None:
            raise Unauthenticated("A patient's token names the patient.", code="invalid_token")
        return Actor.patient(claims.patient)
    if claims.actor == "operator":
        if claims.operator is None:
            raise Unauthenticated("An operator's token names the operator.", code="invalid_token")
        return Actor.operator(claims.operator)
    if not claims.staff or not claims.staff.isalnum() or len(claims.staff) > 32:
        raise Unauthenticated("A desk agent's token names their staff id.", code="invalid_token")
    if claims.office is not None and (not claims.office.isalnum() or len(claims.office) > 32):
        raise Unauthenticated("A desk's office code has up to 32 letters or digits.", code="invalid_token")
    return Actor.desk(claims.staff, claims.office)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class TokenIssuer:
    """Carnet's own issuer: for registered software (client credentials), development and tests."""

    key: SealingKey
    issuer: str
    audience: str
    lifetime: timedelta

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _b64(self.key.public()),
                    "kid": self.key.key_id,
                    "alg": "EdDSA",
                    "use": "sig",
                }
            ]
        }

    def issue(
        self, claims: dict[str, Any], *, lifetime: timedelta | None = None, not_before: datetime | None = None
    ) -> str:
        now = clock.now()
        body = {
            **{k: v for k, v in claims.items() if v is not None},
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "nbf": int((not_before or now).timestamp()),
            "exp": int((now + (lifetime or self.lifetime)).timestamp()),
            "jti": str(uuid.uuid4()),
        }
        try:
            AccessClaims.model_validate(body)  # never sign what the verifier would refuse
        except ValidationError as exc:
            raise Invalid(f"Cannot issue this token: {_first_error(exc)}", code="invalid-claims") from None
        return jwt.encode(body, self.key.private, algorithm="EdDSA", headers={"kid": self.key.key_id})

    def for_professional(
        self,
        *,
        rpps: str,
        profession: str,
        organisation: str | None = None,
        scopes: frozenset[str] = frozenset({"user/*.read", "user/*.write"}),
        mode: Mode = Mode.NORMAL,
        purpose: str | None = None,
        client_id: str | None = None,
    ) -> str:
        if mode in (Mode.EMERGENCY, Mode.REGULATION) and not (purpose or "").strip():
            raise Invalid("An emergency or regulation access needs its justification.", code="missing-justification")
        return self.issue(
            {
                "sub": rpps,
                "actor": "professional",
                "rpps": rpps,
                "profession": profession,
                "organisation": organisation,
                "scope": " ".join(sorted(scopes)),
                "mode": mode.value,
                "purpose": purpose,
                "client_id": client_id,
            }
        )

    def for_patient(self, patient_id: uuid.UUID) -> str:
        claims = {"sub": str(patient_id), "actor": "patient", "patient": str(patient_id), "scope": PATIENT_SCOPES}
        return self.issue(claims)

    def for_operator(self, operator_id: uuid.UUID) -> str:
        """For an operator with the audit role: the trail (AuditEvent) and nothing else."""
        return self.issue(
            {
                "sub": f"operator:{operator_id}",
                "actor": "operator",
                "operator": str(operator_id),
                "scope": OPERATOR_SCOPES,
            }
        )

    def for_desk(self, staff_id: str, office: str | None = None) -> str:
        return self.issue({"sub": f"desk:{staff_id}", "actor": "desk", "staff": staff_id, "office": office})


@dataclass(frozen=True)
class ExternalIssuer:
    """An OpenID Connect issuer Carnet trusts, and the JWKS its keys are fetched from (cached)."""

    issuer: str
    jwks: jwt.PyJWKClient

    @classmethod
    def at(cls, issuer: str, jwks_url: str) -> ExternalIssuer:
        return cls(issuer, jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300, timeout=5))


_REASONS: list[tuple[type[Exception], str]] = [
    (jwt.ExpiredSignatureError, "The token has expired: ask for a new one."),
    (jwt.ImmatureSignatureError, "The token is not valid yet."),
    (jwt.InvalidAudienceError, "The token is not meant for Carnet (wrong audience)."),
    (jwt.InvalidIssuerError, "The token's issuer does not match its key."),
    (jwt.InvalidSignatureError, "The token's signature does not verify."),
    (jwt.MissingRequiredClaimError, "The token lacks a required claim."),
]


@dataclass(frozen=True)
class TokenVerifier:
    own: TokenIssuer
    external: ExternalIssuer | None = None

    def verify(self, token: str) -> Principal:
        """The principal a bearer token speaks for; `Unauthenticated` with the reason when it does not hold.

        The algorithm is the key's, never the token's: Carnet's own key is Ed25519, so its tokens are EdDSA;
        an external issuer's key says its algorithm in its JWK. The header's "alg" must match that, and only
        that one algorithm is handed to the decoder, so no header can make a key serve another algorithm.
        """
        header, unverified = _unverified(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in ALGORITHMS:
            raise Unauthenticated(
                f"Tokens signed with '{str(algorithm)[:16]}' are not accepted: EdDSA or ES256 only.",
                code="invalid_token",
            )
        issuer = unverified.get("iss")
        if isinstance(issuer, str) and issuer == self.own.issuer:
            if header.get("kid") not in (None, self.own.key.key_id):
                raise Unauthenticated("The token was signed with a key Carnet does not know.", code="invalid_token")
            key: Any = self.own.key.private.public_key()
            if algorithm != "EdDSA":
                raise Unauthenticated(
                    f"Carnet's own tokens are signed with EdDSA only; this one says '{algorithm}'.",
                    code="invalid_token",
                )
        elif self.external is not None and isinstance(issuer, str) and issuer == self.external.issuer:
            key, expected = self._external_key(self.external, token)
            if algorithm != expected:
                raise Unauthenticated(
                    f"This issuer's key signs with {expected[:16]}; the token says '{algorithm}'.",
                    code="invalid_token",
                )
        else:
            raise Unauthenticated("The token comes from an issuer Carnet does not trust.", code="invalid_token")
        claims = _decode(token, key, algorithm, audience=self.own.audience, issuer=issuer)
        try:
            parsed = AccessClaims.model_validate(claims)
            scopes = parse_scopes(parsed.scope)
            expires_at = datetime.fromtimestamp(int(claims["exp"]), tz=clock.now().tzinfo)
        except (ValidationError, Invalid) as exc:
            raise Unauthenticated(
                f"The token's claims are not valid: {_first_error(exc)}", code="invalid_token"
            ) from None
        except (TypeError, ValueError, OverflowError, OSError):
            raise Unauthenticated(
                "The token's claims are not valid: exp is not a time Carnet can use.", code="invalid_token"
            ) from None
        return Principal(
            actor=_actor(parsed),
            scopes=scopes,
            issuer=issuer,
            token_id=parsed.jti,
            expires_at=expires_at,
            purpose=parsed.purpose,
            client_id=parsed.client_id,
        )

    def _external_key(self, external: ExternalIssuer, token: str) -> tuple[Any, str]:
        """The external issuer's key named by the token's kid, and the algorithm its JWK gives."""
        try:
            jwk = external.jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise Unavailable("The identity provider's keys cannot be fetched right now; try again.") from None
        except jwt.PyJWTError:
            raise Unauthenticated(
                "The token was signed with a key its issuer does not publish.", code="invalid_token"
            ) from None
        if jwk.algorithm_name not in ALGORITHMS:
            raise Unauthenticated(
                f"The issuer's key signs with '{jwk.algorithm_name[:16]}', which Carnet does not accept.",
                code="invalid_token",
            )
        return jwk.key, jwk.algorithm_name


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, unchecked, only to choose the key; anything unreadable is not a JWT."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):  # ValueError: also bad base64 and non-ASCII text
        raise Unauthenticated("The bearer token is not a well-formed JWT.", code="invalid_token") from None
    if not isinstance(header, dict) or not isinstance(unverified, dict):
        raise Unauthenticated("The bearer token is not a well-formed JWT.", code="invalid_token")
    return header, unverified


def _decode(token: str, key: Any, algorithm: str, *, audience: str, issuer: str) -> dict[str, Any]:
    """The claims, once the signature (with this key, by this one algorithm) and the times are checked."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
        )
    except jwt.PyJWTError as exc:
        message = next((text for kind, text in _REASONS if isinstance(exc, kind)), "The token is not valid.")
        raise Unauthenticated(message, code="invalid_token") from None
    except (TypeError, ValueError, OverflowError):  # a key and a signature that do not belong together
        raise Unauthenticated("The token's signature does not verify.", code="invalid_token") from None
    return claims


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return str(exc)
