"""FHIR search parameters, fuzzed: every search the CapabilityStatement declares, with random names and values
(hypothesis), answers a searchset or a 4xx OperationOutcome, never 5xx. The query strings do not appear in the
OpenAPI document, so schemathesis does not reach them; this test does."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carnet.identity.tokens import TokenIssuer
from tests.factories import finess, rpps
from tests.fhir.conftest import checked

EXAMPLES = 40  # per resource type: about a dozen searchable types, a few seconds each

# Values as hostile software writes them: prefixes, partial dates, offsets, system|code, digits of every script.
_PREFIX = st.sampled_from(["", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap", "zz"])
_DATE = st.from_regex(r"\A-?\d{1,5}(-\d{1,2}(-\d{1,2}(T\d{1,2}:\d{2}(:\d{2}(\.\d{1,9})?)?([+-]\d{2}:\d{2}|Z)?)?)?)?\Z")
_TOKEN = st.builds(lambda s, c: f"{s}|{c}", st.text(max_size=30), st.text(max_size=30))
_VALUE = st.one_of(
    st.builds(lambda p, d: p + d, _PREFIX, _DATE),
    _TOKEN,
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just(str(uuid.uuid4())),
)


@pytest.fixture
def client(client_for: Callable[..., TestClient], issuer: TokenIssuer) -> TestClient:
    made = client_for()
    token = issuer.for_professional(rpps=rpps(9), profession="10", organisation=finess(9))
    made.headers["Authorization"] = f"Bearer {token}"
    return made


def _searches(client: TestClient) -> list[tuple[str, list[str]]]:
    statement = checked(client.get("/fhir/metadata")).json()
    found = []
    for entry in statement["rest"][0]["resource"]:
        if any(i["code"] == "search-type" for i in entry.get("interaction", [])):
            found.append((entry["type"], [p["name"] for p in entry.get("searchParam", [])]))
    return found


def _fuzz(client: TestClient, path: str, query: st.SearchStrategy[list[tuple[str, str]]]) -> None:
    @given(params=query)
    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers(params: list[tuple[str, str]]) -> None:
        response = client.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text)
        body = checked(response).json()
        if response.status_code >= 400:
            assert body["resourceType"] == "OperationOutcome", body
            assert body["issue"][0]["diagnostics"], body
        else:
            assert response.status_code == 200 and body["type"] == "searchset", body

    answers()


def test_every_declared_search_takes_random_parameters_without_a_5xx(client: TestClient) -> None:
    searches = _searches(client)
    assert len(searches) >= 10, searches
    for resource_type, names in searches:
        known = st.sampled_from([*names, "patient", "subject", "_count", "_offset", "_sort", "_include"])
        name = st.one_of(known, known, st.text(min_size=1, max_size=20))
        _fuzz(client, f"/fhir/{resource_type}", st.lists(st.tuples(name, _VALUE), max_size=5))
