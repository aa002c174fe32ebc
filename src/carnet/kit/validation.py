"""Turn pydantic validation failures into one readable `Invalid` naming each field at fault."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from carnet.kit.errors import Invalid

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def invalid_from(exc: ValidationError) -> Invalid:
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "input"
        message = str(error["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return Invalid("; ".join(parts), code="invalid-input")


def validate_model(model: type[M], data: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None


def validate_with(adapter: TypeAdapter[T], data: object) -> T:
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise invalid_from(exc) from None
