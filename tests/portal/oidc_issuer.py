"""A small OpenID Connect provider over real HTTP, for the portal's sign-in tests: discovery, authorize, token
and JWKS endpoints, PKCE (S256) checked at the token endpoint, ID tokens signed ES256.

`answer` decides what the next ID token says, to test each refusal: the right one, another nonce, an expired
one, one signed by a key the provider does not publish, one without the RPPS claim.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

CLIENT_ID = "carnet-portal"
CLIENT_SECRET = "a-client-secret-for-tests"


@dataclass
class Issuer:
    url: str = ""
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    claims: dict[str, Any] = field(default_factory=dict)  # who signs in next
    answer: str = "good"  # good | wrong-nonce | expired | other-key | no-rpps
    codes: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # code: (challenge, nonce, redirect)
    refused: list[str] = field(default_factory=list)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": "psc-subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": "another-nonce-entirely" if self.answer == "wrong-nonce" else nonce,
            **self.claims,
        }
        if self.answer == "expired":
            claims.update(iat=now - 900, exp=now - 600)
        if self.answer == "no-rpps":
            claims.pop("rpps", None)
        key = ec.generate_private_key(ec.SECP256R1()) if self.answer == "other-key" else self.key
        return jwt.encode(claims, key, algorithm="ES256", headers={"kid": "idp-1"})


def _handler(issuer: Issuer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            if path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": issuer.url,
                        "authorization_endpoint": f"{issuer.url}/authorize",
                        "token_endpoint": f"{issuer.url}/token",
                        "jwks_uri": f"{issuer.url}/jwks",
                    },
                )
            elif path == "/jwks":
                jwk = json.loads(ECAlgorithm.to_jwk(issuer.key.public_key()))
                jwk.update({"kid": "idp-1", "alg": "ES256", "use": "sig"})
                self._json(200, {"keys": [jwk]})
            elif path == "/authorize":
                asked = dict(urllib.parse.parse_qsl(query))
                if asked.get("code_challenge_method") != "S256" or asked.get("client_id") != CLIENT_ID:
                    self._json(400, {"error": "invalid_request"})
                    return
                code = secrets.token_urlsafe(16)
                issuer.codes[code] = (asked["code_challenge"], asked["nonce"], asked["redirect_uri"])
                self.send_response(302)
                where = f"{asked['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': asked['state']})}"
                self.send_header("Location", where)
                self.end_headers()
            else:
                self._json(404, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._json(401, {"error": "invalid_client"})
                return
            found = issuer.codes.pop(form.get("code", ""), None)
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if found is None or found[0] != digest or found[2] != form.get("redirect_uri"):
                issuer.refused.append(form.get("code", ""))
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(200, {"access_token": "opaque", "token_type": "Bearer", "id_token": issuer.id_token(found[1])})

        def log_message(self, *_: Any) -> None:
            pass

    return Handler


def serve() -> Iterator[Issuer]:
    issuer = Issuer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(issuer))
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield issuer
    server.shutdown()
