"""schemathesis over the OpenAPI document of the real app on PostgreSQL.

Every documented operation, anonymous and with a professional's valid token: no 5xx, every status and
media type documented, every body as its schema says (an OperationOutcome under /fhir, {code, message}
elsewhere, OAuth's shape at the token endpoint).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from carnet.identity.tokens import TokenIssuer
from tests.factories import finess, rpps
from tests.server_log import served

EXAMPLES = 10  # per operation and caller: about 80 operations, both passes within a minute on two cores
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("caller", ["anonymous", "professional"])
def test_documented_operations_answer_as_documented(app: FastAPI, issuer: TokenIssuer, caller: str) -> None:
    headers: dict[str, str] = {}
    if caller == "professional":
        token = issuer.for_professional(rpps=rpps(11), profession="10", organisation=finess(11))
        headers["Authorization"] = f"Bearer {token}"
    schema = schemathesis.openapi.from_asgi("/openapi.json", served(app))
    statuses: set[int] = set()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers(case: Case[Any]) -> None:
            response = case.call(headers=headers)
            statuses.add(response.status_code)
            case.validate_response(response, checks=CHECKS)

        answers()
    if caller == "professional":  # the token was taken: the pass went past authentication
        assert statuses - {401}, statuses
