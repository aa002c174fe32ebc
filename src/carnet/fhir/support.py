"""What every FHIR route needs: the caller and its scopes, the body, references, bundles, reads that hide refusals."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Request
from starlette.datastructures import QueryParams

from carnet.access.actor import ActorKind
from carnet.access.gate import NO_SUCH_RECORD
from carnet.access.service import ensure_episode
from carnet.api.deps import bearer, web
from carnet.context import Context
from carnet.fhir import search
from carnet.fhir.wire import Resource, read_json
from carnet.identity.tokens import Principal, permits
from carnet.kit.errors import BadRequest, Forbidden, NotFound
from carnet.kit.xhtml import check_narratives

BODY_OVERHEAD = 1024 * 1024  # a bundle's metadata, beside its base64 contents


def caller(request: Request, resource: str, access: Literal["read", "write"]) -> Principal:
    """The proven caller, if its token's scopes cover this access (403 otherwise, before any data is touched)."""
    principal = bearer(request)
    context = "patient" if principal.actor.kind is ActorKind.PATIENT else "user"
    if not permits(principal.scopes, context, resource, access):
        raise Forbidden(
            f"This token's scopes do not allow {access} of {resource} (needs {context}/{resource}.{access}).",
            code="insufficient-scope",
        )
    return principal


def enter(ctx: Context, principal: Principal, patient_id: uuid.UUID) -> None:
    """Before touching a record: an emergency or regulation token declares its episode on first use."""
    ensure_episode(ctx, principal.actor, patient_id, principal.purpose)


async def fhir_body(request: Request) -> Any:
    """The request's FHIR JSON body; base64 contents make it up to 4/3 of the largest document allowed."""
    limit = web(request).runtime.settings.max_document_bytes * 4 // 3 + BODY_OVERHEAD
    body = await read_json(request, limit)
    if isinstance(body, dict):  # every narrative, contained and in bundles too, before any model or rule
        check_narratives(body, str(body.get("resourceType", "Resource"))[:40])
    return body


def base_url(request: Request) -> str:
    return f"{str(request.base_url).rstrip('/')}/fhir"


@contextmanager
def refusals_as_missing() -> Iterator[None]:
    """A read refused answers like a read of nothing: the caller cannot tell a hidden record from a missing one."""
    try:
        yield
    except Forbidden:
        raise NotFound(NO_SUCH_RECORD) from None


def patient_param(params: QueryParams, name: str = "patient") -> uuid.UUID:
    """The patient a search is about; every search but Patient's is scoped to one patient."""
    value = search.one(params, name) or search.one(params, "subject")
    if value is None:
        raise BadRequest(f"This search needs the {name} parameter (Patient/<id>).", code="missing-patient")
    return search.reference(value, "Patient", name)


def patient_reference(reference: Any, where: str) -> uuid.UUID:
    """The patient id an incoming resource's reference names; it must be `Patient/<id>`."""
    text = getattr(reference, "reference", None) if reference is not None else None
    if not text or not str(text).startswith("Patient/"):
        raise BadRequest(f"{where} must reference the patient as Patient/<id>.", code="invalid-reference")
    try:
        return uuid.UUID(str(text).removeprefix("Patient/"))
    except ValueError:
        raise NotFound(NO_SUCH_RECORD) from None


def entry(base: str, resource: Resource, mode: str = "match") -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{resource['resourceType']}/{resource['id']}",
        "resource": resource,
        "search": {"mode": mode},
    }


def searchset(
    request: Request, resources: Sequence[Resource], *, next_offset: int | None, total: int | None = None
) -> Resource:
    """A searchset Bundle with its self link and, when more follow, a next link carrying `_offset`."""
    base = base_url(request)
    here = f"{base}{request.url.path.removeprefix('/fhir')}"
    links = [{"relation": "self", "url": f"{here}?{request.url.query}" if request.url.query else here}]
    if next_offset is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "_offset"]
        params.append(("_offset", str(next_offset)))
        query = "&".join(f"{k}={_quote(v)}" for k, v in params)
        links.append({"relation": "next", "url": f"{here}?{query}"})
    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "link": links,
        "entry": [entry(base, r) for r in resources],
    }
    if total is not None:
        bundle["total"] = total
    if not bundle["entry"]:
        del bundle["entry"]
    return bundle


def _quote(value: str) -> str:
    return quote(value, safe="|:/-.")


def reference_to(resource_type: str, resource_id: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{resource_id}"}
