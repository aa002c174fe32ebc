"""schemathesis over the OpenAPI document of the real app on PostgreSQL: no documented operation answers 5xx."""

from __future__ import annotations

from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.server_log import served

EXAMPLES = 5  # per operation: about 80 operations, the whole run within a minute on two cores


def test_documented_operations_never_answer_5xx(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served(app))
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers(case: Case[Any]) -> None:
            case.call_and_validate(checks=[not_a_server_error])

        answers()
