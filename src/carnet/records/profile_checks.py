"""Whether Carnet can keep a profile resource as written: valid R4, and nothing it cannot honour (pure).

What fails is refused with the FHIR element named (the error's `expression`), never kept changed:
- the R4 structure (fhir.resources models): 400, the element of the first problem;
- the patient: the subject is `Patient/<this record>`; a reference to another patient is refused;
- contained resources: each is referenced from the resource (`#id`), or it is refused;
- a Quantity (or Age, Duration, SimpleQuantity...) without a value;
- security labels: only the confidentiality codes U, L, M and N, which ask no more than Carnet's access rules
  give every entry; a restricted (R, V) or any other label cannot be honoured on a profile entry and is refused.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.quantity import Quantity
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from pydantic import ValidationError

from carnet.fhir.wire import structure_problem
from carnet.kit.errors import BadRequest, Invalid
from carnet.records.profile_types import PROFILE_TYPES

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
NO_MORE_THAN_THE_RULES = ("U", "L", "M", "N")


def accept_resource(body: Any, patient_id: uuid.UUID, expected: str | None = None) -> dict[str, Any]:
    """A copy of the body, once it is a profile resource about this patient that Carnet can keep as written."""
    if not isinstance(body, dict):
        raise BadRequest("The body is not a JSON object.", code="not-a-resource")
    name = body.get("resourceType")
    if name not in PROFILE_TYPES or (expected is not None and name != expected):
        wanted = expected or " or ".join(PROFILE_TYPES)
        raise BadRequest(
            f"Expected a resource of type {wanted}, received {str(name)[:40]!r}.",
            code="wrong-resource-type",
            expression="resourceType",
        )
    try:
        model = get_fhir_model_class(name).model_validate(body)
    except ValidationError as exc:
        where, message = structure_problem(name, exc)
        raise BadRequest(f"{where}: {message}", code="invalid-resource", expression=where) from None
    resource = copy.deepcopy(body)
    _check_subject(resource, PROFILE_TYPES[name].subject, patient_id)
    check_references(resource, patient_id)
    _check_quantities(model, name)
    _check_security(resource)
    return resource


def patient_of(reference: str) -> str | None:
    """The patient id a reference names (`Patient/x`, an absolute URL, a version), if it names a Patient."""
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "Patient" else None


def _check_subject(resource: Mapping[str, Any], element: str, patient_id: uuid.UUID) -> None:
    where = f"{resource['resourceType']}.{element}"
    subject = resource.get(element)
    reference = subject.get("reference") if isinstance(subject, Mapping) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise Invalid(
            f"{where} must reference the patient of this record as Patient/<id> (a contained, a Group or a "
            "missing subject cannot be kept in a patient's record).",
            code="invalid-reference",
            expression=where,
        )
    if patient_of(reference) != str(patient_id):
        raise Invalid(f"{where} names another patient than this record's.", code="other-patient", expression=where)


def walk(value: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every object inside a resource, with its FHIR path."""
    if isinstance(value, Mapping):
        yield where, value
        for key, child in value.items():
            yield from walk(child, f"{where}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from walk(child, f"{where}[{index}]")


def check_references(resource: Mapping[str, Any], patient_id: uuid.UUID) -> None:
    """No reference to another patient; every contained resource referenced (profile entries and documents)."""
    name = str(resource["resourceType"])
    local: set[str] = set()
    for where, element in walk(resource, name):
        reference = element.get("reference")
        if not isinstance(reference, str):
            continue
        if reference.startswith("#"):
            local.add(reference[1:])
        other = patient_of(reference)
        if other is not None and other != str(patient_id):
            raise Invalid(
                f"{where}.reference names another patient than this record's: a record holds one patient's data.",
                code="other-patient",
                expression=f"{where}.reference",
            )
    refuse_unreferenced(resource, name, local)


def refuse_unreferenced(resource: Mapping[str, Any], name: str, local: set[str]) -> None:
    """A contained resource no `#id` reference of the resource names is refused (R4's dom-3)."""
    for index, contained in enumerate(resource.get("contained") or []):
        if isinstance(contained, Mapping) and contained.get("id") not in local:
            raise Invalid(
                f"{name}.contained[{index}] is referenced from nowhere in the resource (reference it as "
                f"#{contained.get('id')} or leave it out).",
                code="unreferenced-contained",
                expression=f"{name}.contained[{index}]",
            )


def _models(model: FHIRAbstractModel, where: str) -> Iterator[tuple[str, FHIRAbstractModel]]:
    yield where, model
    for name, field in type(model).model_fields.items():
        value = getattr(model, name, None)
        label = field.alias or name
        if isinstance(value, FHIRAbstractModel):
            yield from _models(value, f"{where}.{label}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, FHIRAbstractModel):
                    yield from _models(item, f"{where}.{label}[{index}]")


def _check_quantities(model: FHIRAbstractModel, name: str) -> None:
    for where, element in _models(model, name):
        if isinstance(element, Quantity) and element.value is None:
            raise Invalid(
                f"{where} has no value: send the quantity with its value, or leave the element out (an "
                "Observation without a result says why in dataAbsentReason).",
                code="quantity-without-value",
                expression=f"{where}.value",
            )


def _check_security(resource: Mapping[str, Any]) -> None:
    name = str(resource["resourceType"])
    meta = resource.get("meta") or {}
    for index, label in enumerate(meta.get("security") or []):
        where = f"{name}.meta.security[{index}]"
        system, code = label.get("system"), label.get("code")
        if system == CONFIDENTIALITY and code in NO_MORE_THAN_THE_RULES:
            continue
        if system == CONFIDENTIALITY and code in ("R", "V"):
            why = (
                "a profile entry is shown by the access rules of its source class and cannot be restricted "
                "further; deposit the information as a document with its visibility flags instead"
            )
        else:
            known = ", ".join(NO_MORE_THAN_THE_RULES)
            why = f"Carnet does not know this security label (known: {CONFIDENTIALITY} {known})"
        raise Invalid(f"{where} ({system}|{code}) cannot be honoured: {why}.", code="unknown-label", expression=where)
