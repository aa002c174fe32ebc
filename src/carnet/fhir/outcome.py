"""Every failure of the FHIR API as an OperationOutcome: the HTTP status, an issue type, Carnet's code, a sentence."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from carnet.fhir.codes import ERROR_SYSTEM

ISSUE_TYPES = {
    400: "structure",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "business-rule",
    429: "throttled",
    500: "exception",
    503: "transient",
}


def operation_outcome(
    status: int, code: str, message: str, *, severity: str = "error", expression: str | None = None
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": severity,
        "code": ISSUE_TYPES.get(status, "processing"),
        "details": {"coding": [{"system": ERROR_SYSTEM, "code": code}], "text": message},
        "diagnostics": message,
    }
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def information(message: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
    }


class OutcomeIssue(BaseModel):
    """The OpenAPI description of an issue (FHIR R4 OperationOutcome.issue); answers are built above."""

    model_config = ConfigDict(extra="allow")
    severity: str
    code: str
    diagnostics: str | None = None
    expression: list[str] | None = None


class OperationOutcome(BaseModel):
    """The OpenAPI description of every FHIR failure: an OperationOutcome with one issue or more."""

    model_config = ConfigDict(extra="allow")
    resourceType: str
    issue: list[OutcomeIssue]


MEANINGS = {
    400: "The request or the resource is malformed (the issue names the element).",
    401: "No valid bearer token (WWW-Authenticate says why).",
    403: "The token's scope or the patient's rules do not allow it.",
    404: "Not found, or not visible to the caller.",
    409: "Conflicts with the current state of the record.",
    410: "The record was closed or destroyed.",
    412: "A conditional request's precondition does not hold (If-Match, If-None-Exist).",
    413: "The request body is over the size limit.",
    415: "The body is not FHIR JSON.",
    422: "The resource is valid FHIR that Carnet cannot honour (the issue names the element and says why).",
    429: "Too many requests or failed attempts: wait before trying again.",
    503: "A service Carnet depends on does not answer.",
}

# Every answer the /fhir routes may give other than their success, documented once for all of them.
FHIR_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": OperationOutcome, "description": meaning} for status, meaning in MEANINGS.items()
}
