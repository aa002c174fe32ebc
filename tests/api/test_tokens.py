"""Tokens over HTTP: the token endpoint, the built-in issuer's keys, a second (external) issuer, bad tokens."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm

from carnet.app import create_app
from carnet.identity.clients import register_client
from carnet.identity.tokens import TokenIssuer
from carnet.runtime import Runtime
from tests.api.flows import bearer
from tests.factories import finess, rpps
from tests.http_fixtures import BASE_URL, fresh_address, make_settings

Client = Callable[..., TestClient]
DOCTOR = rpps(501)
SCOPES = "user/DocumentReference.read user/Patient.read user/DocumentReference.write"


@pytest.fixture
def software(runtime: Runtime) -> tuple[str, str]:
    with runtime.unit_of_work() as ctx:
        client = register_client(
            ctx, name="Logiciel de cabinet", rpps=DOCTOR, profession="10", organisation=finess(9), scopes=SCOPES
        )
    return client.client_id, client.client_secret


def _basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_client_credentials_give_a_token_for_the_bound_professional(
    client_for: Client, software: tuple[str, str]
) -> None:
    client = client_for()
    client_id, secret = software
    answer = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "user/DocumentReference.read"},
        headers=_basic(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 600, "user/DocumentReference.read")
    me = client.get("/me", headers=bearer(body["access_token"])).json()
    assert (me["kind"], me["ref"], me["profession"], me["organisation"], me["mode"]) == (
        "professional",
        DOCTOR,
        "10",
        finess(9),
        "normal",
    )
    assert me["scopes"] == ["user/DocumentReference.read"]
    # Form-posted credentials work too; with no scope asked, the client's own scopes are given.
    posted = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert posted.json()["scope"] == " ".join(sorted(SCOPES.split()))


def test_emergency_tokens_carry_their_justification(client_for: Client, software: tuple[str, str]) -> None:
    client = client_for()
    form = {"grant_type": "client_credentials", "access_mode": "emergency"}
    refused = client.post("/oauth/token", data=form, headers=_basic(*software))
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")
    form["justification"] = "Patient inconscient aux urgences, allergies inconnues"
    token = client.post("/oauth/token", data=form, headers=_basic(*software)).json()["access_token"]
    me = client.get("/me", headers=bearer(token)).json()
    assert (me["mode"], me["purpose"]) == ("emergency", form["justification"])


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "client_credentials"}, "wrong", 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, "unknown", 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, "none", 401, "invalid_client"),
        ({"grant_type": "password"}, "good", 400, "unsupported_grant_type"),
        ({}, "good", 400, "invalid_request"),
        ({"grant_type": "client_credentials", "scope": "user/Consent.write"}, "good", 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "scope": "admin/everything"}, "good", 400, "invalid_scope"),
        ({"grant_type": "client_credentials", "access_mode": "godmode"}, "good", 400, "invalid_request"),
    ],
)
def test_the_token_endpoint_answers_errors_in_oauth_words(
    client_for: Client, software: tuple[str, str], form: dict[str, str], auth: str, status: int, error: str
) -> None:
    client_id, secret = software
    headers = {
        "good": _basic(client_id, secret),
        "wrong": _basic(client_id, secret + "x"),
        "unknown": _basic("carnet-0000000000000000", secret),
        "none": {},
    }[auth]
    answer = client_for().post("/oauth/token", data=form, headers=headers)
    assert (answer.status_code, answer.json()["error"]) == (status, error)
    assert answer.json()["error_description"]


def test_the_published_keys_verify_the_tokens(client_for: Client, issuer: TokenIssuer) -> None:
    client = client_for()
    discovery = client.get("/.well-known/openid-configuration").json()
    assert discovery["issuer"] == BASE_URL and discovery["token_endpoint"] == f"{BASE_URL}/oauth/token"
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    token = issuer.for_professional(rpps=DOCTOR, profession="10")
    claims = jwt.decode(token, keys.keys[0].key, algorithms=["EdDSA"], audience="carnet-api")
    assert (claims["rpps"], claims["iss"]) == (DOCTOR, BASE_URL)


def _forged(issuer: TokenIssuer, **changes: Any) -> str:
    """A token like the issuer's, with some claims or the key changed."""
    now = int(time.time())
    claims = {
        "iss": issuer.issuer,
        "aud": issuer.audience,
        "sub": DOCTOR,
        "actor": "professional",
        "rpps": DOCTOR,
        "profession": "10",
        "scope": "user/*.read",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    key = changes.pop("key", issuer.key.private)
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": issuer.key.key_id})


def _segment(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _with_header(issuer: TokenIssuer, header: object) -> str:
    """A good token of the issuer's whose header is replaced (its signature no longer matters)."""
    _, body, signature = _forged(issuer).split(".")
    return f"{_segment(header)}.{body}.{signature}"


def _claims_of(issuer: TokenIssuer) -> dict[str, Any]:
    return jwt.decode(_forged(issuer), options={"verify_signature": False})


def _es256(issuer: TokenIssuer) -> str:
    """Carnet's own issuer named, an ES256 signature by a key of the attacker's: its own key is Ed25519."""
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(_claims_of(issuer), key, algorithm="ES256", headers={"kid": issuer.key.key_id})


def _hs256_with_public_key(issuer: TokenIssuer) -> str:
    """The classic confusion: HMAC keyed with the published public key."""
    return jwt.encode(_claims_of(issuer), issuer.key.public() * 2, algorithm="HS256")


def _unsigned(issuer: TokenIssuer) -> str:
    good = _forged(issuer)
    _, body, _ = good.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    return f"{header}.{body}."


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda i: _forged(i, exp=int(time.time()) - 120), "expired"),
        (lambda i: _forged(i, nbf=int(time.time()) + 600), "not valid yet"),
        (lambda i: _forged(i, key=Ed25519PrivateKey.generate()), "signature does not verify"),
        (lambda i: _forged(i, aud="another-service"), "wrong audience"),
        (_unsigned, "'none' are not accepted"),
        (lambda i: _forged(i, iss="https://idp.elsewhere.example"), "issuer Carnet does not trust"),
        (lambda i: _forged(i, rpps="12345678901"), "claims are not valid"),
        (lambda i: _forged(i, mode="emergency"), "justification"),
        (lambda i: "not-a-jwt", "not a well-formed JWT"),
        (lambda i: jwt.encode({"iss": i.issuer}, "a-shared-secret-of-32-bytes-long!", algorithm="HS256"), "HS256"),
        (_es256, "EdDSA only"),
        (_hs256_with_public_key, "'HS256' are not accepted"),
        (lambda i: _with_header(i, {"alg": "ES256", "kid": i.key.key_id}), "EdDSA only"),
        (lambda i: _with_header(i, {"alg": "none"}), "'none' are not accepted"),
        (lambda i: _with_header(i, {"alg": ["EdDSA"]}), "not accepted"),
        (lambda i: _with_header(i, {"alg": "EdDSA", "kid": {"nested": 1}}), "not a well-formed JWT"),
        (lambda i: _with_header(i, {"alg": "EdDSA", "kid": "another-key"}), "key Carnet does not know"),
        (lambda i: _with_header(i, ["EdDSA"]), "not a well-formed JWT"),
        (lambda i: _with_header(i, "EdDSA"), "not a well-formed JWT"),
        (lambda i: _forged(i).split(".")[0] + ".e30.", "issuer Carnet does not trust"),
        (lambda i: _forged(i).split(".")[0] + "." + _segment([1, 2]) + ".c2ln", "not a well-formed JWT"),
        (lambda i: "a.b.c", "not a well-formed JWT"),
        (lambda i: "....", "not a well-formed JWT"),
        (lambda i: _forged(i)[:-3] + "%%%", "not a well-formed JWT"),
        (lambda i: _forged(i, exp=10**30), "claims are not valid"),
        (lambda i: _forged(i).split(".")[0] + "." + _segment({"iss": [i.issuer]}) + ".c2ln", "does not trust"),
    ],
)
def test_bad_tokens_are_refused_with_their_reason(
    client_for: Client, issuer: TokenIssuer, make: Callable[[TokenIssuer], str], message: str
) -> None:
    answer = client_for().get("/me", headers=bearer(make(issuer)))
    assert answer.status_code == 401
    assert message in answer.json()["message"]
    assert answer.headers["www-authenticate"].startswith('Bearer error="invalid_token"')


@pytest.mark.parametrize("token", ["é" * 40, "\u00ff.\u00fe.\u00fd", "eyJ" + "\u00e9" * 10 + ".e30.x"])
def test_tokens_out_of_ascii_are_refused_not_crashed_on(client_for: Client, token: str) -> None:
    answer = client_for().get("/me", headers={"Authorization": f"Bearer {token}".encode()})
    assert answer.status_code == 401, answer.text
    assert "not a well-formed JWT" in answer.json()["message"]


def test_no_token_at_all(client_for: Client) -> None:
    answer = client_for().get("/me")
    assert (answer.status_code, answer.json()["code"]) == (401, "invalid_request")


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def second_issuer() -> Iterator[tuple[str, ec.EllipticCurvePrivateKey]]:
    """Another identity provider, with its own ES256 key, publishing its JWKS over real HTTP."""
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "idp-key-1", "alg": "ES256", "use": "sig"})
    handler = type("Handler", (_Jwks,), {"body": json.dumps({"keys": [jwk]}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks", key
    server.shutdown()


def _idp_token(key: ec.EllipticCurvePrivateKey, kid: str = "idp-key-1", **changes: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "https://psc.idp.example",
        "aud": "carnet-api",
        "sub": "8" + rpps(777),
        "actor": "professional",
        "rpps": rpps(777),
        "profession": "21",
        "organisation": finess(3),
        "scope": "user/*.read",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
        **changes,
    }
    return jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})


def test_tokens_of_a_configured_external_issuer_are_accepted(
    runtime: Runtime, tmp_path: Path, second_issuer: tuple[str, ec.EllipticCurvePrivateKey]
) -> None:
    jwks_url, key = second_issuer
    settings = make_settings(tmp_path, oidc_issuer="https://psc.idp.example", oidc_jwks_url=jwks_url)
    app = create_app(Runtime(settings, runtime.engine, runtime.sessions, runtime.keys))
    with TestClient(app, base_url=BASE_URL, client=(fresh_address(), 1)) as client:
        me = client.get("/me", headers=bearer(_idp_token(key)))
        assert me.status_code == 200, me.text
        assert (me.json()["ref"], me.json()["profession"], me.json()["issuer"]) == (
            rpps(777),
            "21",
            "https://psc.idp.example",
        )
        impostor = _idp_token(ec.generate_private_key(ec.SECP256R1()))
        assert "signature does not verify" in client.get("/me", headers=bearer(impostor)).json()["message"]
        unknown_key = _idp_token(ec.generate_private_key(ec.SECP256R1()), kid="not-published")
        assert "does not publish" in client.get("/me", headers=bearer(unknown_key)).json()["message"]
        wrong_audience = _idp_token(key, aud="someone-else")
        assert client.get("/me", headers=bearer(wrong_audience)).status_code == 401
        # The algorithm is the published key's (ES256): a token naming another one is refused, never tried.
        good = _idp_token(key)
        claims = jwt.decode(good, options={"verify_signature": False})
        eddsa = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "idp-key-1"})
        refused = client.get("/me", headers=bearer(eddsa))
        assert refused.status_code == 401, refused.text
        assert "ES256" in refused.json()["message"]


def test_an_unreachable_external_issuer_is_a_503_not_a_bad_token(runtime: Runtime, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, oidc_issuer="https://psc.idp.example", oidc_jwks_url="http://127.0.0.1:9/jwks")
    app = create_app(Runtime(settings, runtime.engine, runtime.sessions, runtime.keys))
    with TestClient(app, base_url=BASE_URL, client=(fresh_address(), 1)) as client:
        answer = client.get("/me", headers=bearer(_idp_token(ec.generate_private_key(ec.SECP256R1()))))
    assert (answer.status_code, answer.json()["code"]) == (503, "unavailable")


def test_the_openapi_document_lists_the_endpoints_and_their_errors(client_for: Client) -> None:
    paths = client_for().get("/openapi.json").json()["paths"]
    assert {"400", "401"} <= set(paths["/oauth/token"]["post"]["responses"])
    assert {"401", "422", "429"} <= set(paths["/auth/login"]["post"]["responses"])
    assert {"401", "422", "429"} <= set(paths["/auth/login/second-factor"]["post"]["responses"])
    assert {"401", "409", "422", "429"} <= set(paths["/auth/activate"]["post"]["responses"])
    assert {"401", "422"} <= set(paths["/auth/recovery/complete"]["post"]["responses"])
    assert {"401", "403"} <= set(paths["/cards/challenges"]["post"]["responses"])
