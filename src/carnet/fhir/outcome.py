"""Every failure of the FHIR API as an OperationOutcome: the HTTP status, an issue type, Carnet's code, a sentence."""

from __future__ import annotations

from typing import Any

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
