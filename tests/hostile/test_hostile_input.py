"""Hostile input answers 4xx with a sentence, never 500: NUL characters, foreign digits, calendar edges,
deep JSON, endless numbers, bodies that lie about themselves. The real app over HTTP, real PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from carnet.identity.tokens import TokenIssuer
from carnet.kit.ingress import MAX_JSON_DEPTH
from tests.factories import finess, rpps
from tests.fhir.conftest import checked
from tests.fhir.documents import document

PATIENT = "61df37ff-fe94-4705-98ff-f1a06d0ad0c2"  # fixed: two test processes must collect the same test ids
INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
FHIR = {"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"}


@pytest.fixture
def client(client_for: Callable[..., TestClient], issuer: TokenIssuer) -> TestClient:
    made = client_for()
    token = issuer.for_professional(rpps=rpps(7), profession="10", organisation=finess(7))
    made.headers["Authorization"] = f"Bearer {token}"
    return made


def refused(response: Response, status: int | tuple[int, ...], *words: str) -> dict[str, Any]:
    """A 4xx in the adapter's shape, whose sentence names what was wrong."""
    expected = (status,) if isinstance(status, int) else status
    assert response.status_code in expected, (response.status_code, response.text)
    if response.request.url.path.startswith("/fhir"):
        body: dict[str, Any] = checked(response).json()
        message = body["issue"][0]["diagnostics"]
    elif response.request.url.path == "/oauth/token":
        body = response.json()
        assert set(body) == {"error", "error_description"}, body
        message = body["error_description"]
    else:
        body = response.json()
        assert set(body) == {"code", "message"}, body
        message = body["message"]
    for word in words:
        assert word in message, (word, message)
    return body


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (f"/fhir/DocumentReference?patient={PATIENT}&category=a%00b", "category"),
        (f"/fhir/DocumentReference?patient={PATIENT}%00", "patient"),
        (f"/fhir/Patient?identifier={INS_SYSTEM}|1234567890123%00", "identifier"),
        (f"/fhir/AuditEvent?patient={PATIENT}&date=2026%00", "date"),
        ("/fhir/Patient/%00", "path"),
        ("/me?x%00=1", "x"),
    ],
)
def test_a_nul_in_the_url_is_refused_naming_the_parameter(client: TestClient, path: str, name: str) -> None:
    refused(client.get(path), 400, "NUL", name)


def test_a_nul_in_if_none_exist_is_refused_naming_it(client: TestClient) -> None:
    headers = {**FHIR, "If-None-Exist": "identifier=urn:ietf:rfc:3986|urn:oid:1.2%00"}
    response = client.post("/fhir/DocumentReference", json=document(PATIENT), headers=headers)
    refused(response, 400, "NUL", "If-None-Exist")


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/auth/login", {"login": "anne\u0000", "password": "lune-verte-kiosque-42"}),
        ("/auth/recovery", {"login": "\u0000"}),
        ("/operator/login", {"login": "op\u0000", "password": "x", "code": "123456"}),
        ("/cards/presentations", {"challenge_id": PATIENT, "serial": "VIT\u0000", "signature": "AA=="}),
        ("/fhir/Patient", {"resourceType": "Patient", "name": [{"family": "Le\u0000"}]}),
    ],
)
def test_a_nul_in_a_json_body_is_refused(client: TestClient, path: str, body: dict[str, Any]) -> None:
    refused(client.post(path, json=body, headers=FHIR if path.startswith("/fhir") else {}), 400, "NUL")


def test_an_escaped_backslash_before_u0000_is_no_nul(client: TestClient) -> None:
    response = client.post("/auth/login", content=b'{"login": "a\\\\u0000", "password": "x"}', headers=FHIR)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("form", ["grant_type=client_credentials&client_id=a%00&client_secret=s", "scope=%00"])
def test_a_nul_in_a_form_field_is_refused_in_oauth_words(client: TestClient, form: str) -> None:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    refused(client.post("/oauth/token", content=form, headers=headers), 400, "NUL")


def test_a_nul_in_a_basic_client_id_is_an_unknown_client(client: TestClient) -> None:
    basic = base64.b64encode(b"client\x00:secret").decode()
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"}
    )
    assert refused(response, 401)["error"] == "invalid_client"


@pytest.mark.parametrize("value", ["١٢", "²", "12²", "1" * 5000, "-1", " 5"])
@pytest.mark.parametrize("name", ["_count", "_offset"])
def test_paging_takes_ascii_whole_numbers_only(client: TestClient, name: str, value: str) -> None:
    response = client.get("/fhir/DocumentReference", params={"patient": PATIENT, name: value})
    refused(response, 400, name)


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+14:00",
        "lt0001-01-01",
        "9999-12-31T23:59:59-14:00",
        "9999-12-31",
        "ge2026-01-01T00:00:00+99:99",
        "2026-01-01T00:00:00+14:30",
        "2023-02-30",
        "٢٠٢٦-01-01",
    ],
)
@pytest.mark.parametrize("path", ["DocumentReference", "AuditEvent"])
def test_dates_at_the_edges_of_the_calendar_are_refused(client: TestClient, path: str, value: str) -> None:
    response = client.get(f"/fhir/{path}", params={"patient": PATIENT, "date": value})
    refused(response, 400, "date")


def test_dates_inside_the_calendar_still_search(client: TestClient) -> None:
    for value in ("ge0002-01-01T00:00:00+14:00", "le9998-12-31T23:59:59-14:00", "2026-01-01T00:00:00-14:00"):
        response = client.get("/fhir/DocumentReference", params={"patient": PATIENT, "date": value})
        refused(response, 404)  # past the parsing: the record does not exist


def _nested(depth: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    if kind == "objects":
        return b'{"a":' * depth + b"1" + b"}" * depth
    inner = b'{"resourceType":"Basic","contained":[' * depth
    return b'{"resourceType":"Patient","contained":[' + inner + b"{}" + b"]}" * (depth + 1)


@pytest.mark.parametrize("kind", ["arrays", "objects", "contained"])
@pytest.mark.parametrize("path", ["/fhir/Patient", "/fhir", "/auth/login", "/records", "/cards/presentations"])
def test_json_nested_thousands_deep_is_refused_before_parsing(client: TestClient, path: str, kind: str) -> None:
    response = client.post(path, content=_nested(1000, kind), headers=FHIR)
    refused(response, 413, str(MAX_JSON_DEPTH), "nested")


def test_json_nested_within_the_limit_is_parsed(client: TestClient) -> None:
    response = client.post("/auth/login", content=_nested(MAX_JSON_DEPTH - 1, "arrays"), headers=FHIR)
    refused(response, 422)


@pytest.mark.parametrize("path", ["/fhir/Observation", "/auth/login", "/records"])
def test_integers_longer_than_pythons_digit_limit_are_refused(client: TestClient, path: str) -> None:
    body = b'{"resourceType": "Observation", "valueInteger": ' + b"9" * 5000 + b"}"
    refused(client.post(path, content=body, headers=FHIR), 400, "digits")


@pytest.mark.parametrize("path", ["/fhir/Patient", "/auth/login", "/oauth/token", "/operator/login"])
@pytest.mark.parametrize(
    ("content", "media"),
    [
        (b"\xff\xfe{\x00}", "application/json"),  # not UTF-8
        (b"login=anne&password=x", "application/json"),  # a Content-Type lie
        (b'{"login": "anne"}', "application/x-www-form-urlencoded"),
        (b"", "application/json"),  # an empty body
        (b"", ""),
        (b"\xc3\x28", "application/x-www-form-urlencoded"),
    ],
)
def test_bodies_that_lie_answer_4xx(client: TestClient, path: str, content: bytes, media: str) -> None:
    headers = {"Accept": "application/fhir+json", "Content-Type": media} if media else {}
    refused(client.post(path, content=content, headers=headers), (400, 401, 415, 422))


@pytest.mark.parametrize("header", ["Authorization", "X-Request-Id", "If-None-Exist", "Cookie", "Content-Type"])
@pytest.mark.parametrize("path", ["/fhir/Patient", "/auth/session", "/oauth/token"])
def test_a_huge_header_answers_4xx(client: TestClient, path: str, header: str) -> None:
    value = "Bearer " + "x" * 200_000 if header == "Authorization" else "a=" + "x" * 200_000
    response = client.post(path, content=b"{}", headers={**FHIR, header: value})
    refused(response, (400, 401, 404, 405, 415, 422))


def test_a_json_api_body_over_its_limit_is_refused(client: TestClient) -> None:
    body = b'{"login": "' + b"x" * 100_000 + b'", "password": "x"}'
    refused(client.post("/auth/login", content=body, headers=FHIR), 413, "bytes")
