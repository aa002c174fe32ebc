"""FHIR JSON in and out: content types, size limits, parsing with the R4 models, rendering checked resources.

Numbers read back as written. FHIR gives a decimal's digits meaning (`66.90` is not `66.9`, `1.0E2` is two
significant digits), so a body's non-integer numbers are parsed as `WrittenNumber`, a Decimal that keeps the
text it was written with, and `dumps` writes that text back, in a stored resource as in every answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Self

from fastapi import Request
from fastapi.responses import JSONResponse
from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from carnet.fhir.codes import FHIR_JSON
from carnet.kit.errors import BadRequest, TooLarge, UnsupportedMedia

ACCEPTED_BODIES = (FHIR_JSON, "application/json")
Resource = dict[str, Any]


class WrittenNumber(Decimal):
    """A JSON number with the exact text it was written in (`66.90`, `1.0E2`, `-0`), rendered back as that."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> Self:
        number = super().__new__(cls, text)
        number.text = text
        return number

    def __reduce__(self) -> tuple[type[Self], tuple[str]]:
        return type(self), (self.text,)


def _integer(text: str) -> int | WrittenNumber:
    # JSON allows no leading zero, so every integer but `-0` reads back the same as a Python int.
    return WrittenNumber(text) if text == "-0" else int(text)


def loads(text: str | bytes) -> Any:
    """JSON with its numbers as written: integers as int, the others as WrittenNumber."""
    return json.loads(text, parse_float=WrittenNumber, parse_int=_integer)


def dumps(value: Any) -> str:
    """Compact JSON (UTF-8 text, not escaped); a WrittenNumber as its text, so decimals keep their digits."""
    parts: list[str] = []
    _encode(value, parts.append)
    return "".join(parts)


_string = json.encoder.encode_basestring  # the C encoder, as json.dumps(..., ensure_ascii=False) uses


def _encode(value: Any, out: Callable[[str], object]) -> None:
    if isinstance(value, str):
        out(_string(value))
    elif isinstance(value, dict):
        out("{")
        for index, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys are strings, not {type(key).__name__}")
            out(f",{_string(key)}:" if index else f"{_string(key)}:")
            _encode(item, out)
        out("}")
    elif isinstance(value, list | tuple):
        out("[")
        for index, item in enumerate(value):
            if index:
                out(",")
            _encode(item, out)
        out("]")
    elif value is None or isinstance(value, bool):
        out("null" if value is None else "true" if value else "false")
    elif isinstance(value, WrittenNumber):
        out(value.text)
    elif isinstance(value, int | float):
        out(json.dumps(value, allow_nan=False))
    elif isinstance(value, Decimal) and value.is_finite():
        out(str(value))
    else:
        raise TypeError(f"{type(value).__name__} is not JSON")


class FhirResponse(JSONResponse):
    media_type = f"{FHIR_JSON}; charset=utf-8"

    def render(self, content: Any) -> bytes:
        return dumps(content).encode("utf-8")


def model_of(resource_type: str) -> type[FHIRAbstractModel]:
    try:
        model: type[FHIRAbstractModel] = get_fhir_model_class(resource_type)
    except ValueError:
        raise BadRequest(f"'{resource_type[:40]}' is not a FHIR resource type.", code="unknown-resource-type") from None
    return model


def checked(resource: Resource) -> Resource:
    """A resource Carnet is about to return, validated against the FHIR models first (never invalid FHIR out)."""
    model_of(resource["resourceType"]).model_validate(resource)
    return resource


def respond(resource: Resource, *, status: int = 200, headers: dict[str, str] | None = None) -> FhirResponse:
    return FhirResponse(checked(resource), status_code=status, headers=headers)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request's JSON body: FHIR JSON only, within the size limit, well-formed; numbers as written."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in ACCEPTED_BODIES:
        raise UnsupportedMedia(
            f"Send FHIR resources as {FHIR_JSON} (received '{media[:60] or 'no content type'}').",
            code="unsupported-media-type",
        )
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared[:20]) > max_bytes:
        raise TooLarge(f"The request body is over {max_bytes} bytes.", code="too-large")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > max_bytes:
            raise TooLarge(f"The request body is over {max_bytes} bytes.", code="too-large")
    try:
        return loads(bytes(body))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not well-formed JSON: {exc}.", code="malformed-json") from None


def parse(body: Any, expected: str | tuple[str, ...]) -> FHIRAbstractModel:
    """The body as a FHIR resource of an expected type; unknown elements and malformed values are refused."""
    wanted = (expected,) if isinstance(expected, str) else expected
    if not isinstance(body, dict):
        raise BadRequest("The body is not a JSON object.", code="not-a-resource")
    resource_type = body.get("resourceType")
    if resource_type not in wanted:
        raise BadRequest(
            f"Expected a resource of type {' or '.join(wanted)}, received {str(resource_type)[:40]!r}.",
            code="wrong-resource-type",
        )
    try:
        return model_of(resource_type).model_validate(body)
    except ValidationError as exc:
        raise BadRequest(describe(exc), code="invalid-resource") from None


def describe(exc: ValidationError) -> str:
    """The first problem of a FHIR validation, as `path: message`."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = " ".join(str(first.get("msg", "invalid")).split())
    if first.get("type") == "extra_forbidden":
        message = "unknown element"
    return f"{where}: {message}" if where else message


def structure_problem(name: str, exc: ValidationError) -> tuple[str, str]:
    """The first problem of a FHIR validation as (FHIRPath of the element, message): `Patient.name[0].given`."""
    first = exc.errors()[0]
    where = name
    for part in first.get("loc", ()):
        if isinstance(part, int):
            where += f"[{part}]"
        elif str(part).replace("_", "").isalnum():
            where += f".{part}"
    message = " ".join(str(first.get("msg", "invalid")).split()).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = "unknown element"
    return where, message
