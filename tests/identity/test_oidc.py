"""The pure parts of the identity provider's sign-in: the pending sign-in's cookie, the claims mapped to a
professional, and the settings that go together."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from carnet.identity.oidc import Claims, Pending, identity_of
from carnet.kit.errors import Unauthenticated
from tests.factories import finess, rpps
from tests.http_fixtures import make_settings


def test_a_pending_sign_in_survives_its_cookie_and_a_tampered_one_is_none() -> None:
    pending = Pending("s" * 43, "n" * 43, "v" * 64)
    assert Pending.loads(pending.dumps()) == pending
    assert Pending.loads("not base64 json") is None
    assert Pending.loads(Pending("short", "n" * 43, "v" * 64).dumps()) is None


def test_claims_name_the_professional_under_the_configured_names() -> None:
    names = Claims(rpps="SubjectNameID", profession="codeProfession", organisation="finess")
    found = identity_of(names, {"SubjectNameID": "8" + rpps(5), "codeProfession": "60", "finess": finess(2)})
    assert (found.ref, found.profession, found.organisation, found.space) == (rpps(5), "60", finess(2), "professional")
    named = identity_of(Claims(), {"rpps": rpps(6), "profession": "10", "given_name": "Anne", "family_name": "Roy"})
    assert named.name == "Anne Roy" and named.organisation is None


@pytest.mark.parametrize(
    "claims",
    [
        {"profession": "10"},
        {"rpps": rpps(7)},
        {"rpps": "12345", "profession": "10"},
        {"rpps": rpps(7), "profession": "x"},
    ],
)
def test_a_token_without_a_valid_rpps_or_profession_is_refused(claims: dict[str, str]) -> None:
    with pytest.raises(Unauthenticated, match="RPPS"):
        identity_of(Claims(), claims)


def test_a_client_id_needs_its_issuer_and_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="CARNET_OIDC_CLIENT_ID"):
        make_settings(tmp_path, oidc_client_id="carnet")
    made = make_settings(
        tmp_path,
        oidc_issuer="https://idp.example",
        oidc_jwks_url="https://idp.example/jwks",
        oidc_client_id="carnet",
        oidc_client_secret=SecretStr("s"),
    )
    assert made.oidc_client_id == "carnet"
