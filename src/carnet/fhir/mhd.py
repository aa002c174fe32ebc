"""IHE MHD Provide Document Bundle (ITI-65): a transaction of one SubmissionSet List, DocumentReferences and
their Binaries, stored all or nothing (one unit of work: the first failure rolls everything back)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from carnet.api.deps import unit
from carnet.fhir.document_routes import deposit, etag
from carnet.fhir.documents import in_bundle, incoming_document, resource_id
from carnet.fhir.outcome import information
from carnet.fhir.support import caller, fhir_body
from carnet.fhir.wire import FhirResponse, Resource, respond
from carnet.kit.errors import BadRequest, CarnetError, Invalid
from carnet.records.document_checks import AcceptedDocument, validated

router = APIRouter(prefix="/fhir", tags=["FHIR"])
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"


Documents = list[tuple[int, AcceptedDocument]]


def _entries(bundle: Any, raw: list[Any]) -> tuple[Any, Documents, dict[str, tuple[int, Any]]]:
    """The submission set, the documents (with their position) and the binaries by fullUrl; all checked first.

    Each DocumentReference is kept as its writer wrote it in the bundle (`raw`), not as the models render it.
    """
    lists, documents, binaries = [], [], {}
    for position, item in enumerate(bundle.entry or []):
        resource, where = item.resource, f"Bundle.entry[{position}]"
        if resource is None or item.request is None or item.request.method != "POST":
            raise BadRequest(
                f"{where} needs a resource and request.method POST.",
                code="invalid-entry",
                expression=f"{where}.request.method" if resource is not None else f"{where}.resource",
            )
        kind = resource.get_resource_type()
        if kind == "List":
            lists.append((position, resource))
        elif kind == "DocumentReference":
            body = raw[position]["resource"]
            documents.append((position, incoming_document(body, resource, where=f"{where}.resource")))
        elif kind == "Binary":
            if not item.fullUrl:
                raise BadRequest(
                    f"{where}: a Binary needs its fullUrl.", code="invalid-entry", expression=f"{where}.fullUrl"
                )
            binaries[str(item.fullUrl)] = (position, resource)
        else:
            raise Invalid(
                f"{where}: a document bundle (IHE MHD Provide Document Bundle) holds a SubmissionSet List, "
                f"DocumentReferences and their Binaries, no {kind}.",
                code="invalid-entry",
                expression=f"{where}.resource",
            )
    if len(lists) != 1 or not _is_submission_set(lists[0][1]):
        raise Invalid(
            f"A document bundle has one List, the SubmissionSet (code submissionset of {MHD_LIST_TYPES}).",
            code="missing-submission-set",
            expression=f"Bundle.entry[{lists[1][0]}].resource" if len(lists) > 1 else "Bundle.entry",
        )
    if not documents:
        raise Invalid(
            "A document bundle carries at least one DocumentReference.", code="no-document", expression="Bundle.entry"
        )
    if len({d.patient_id for _, d in documents}) != 1:
        other = next(p for p, d in documents if d.patient_id != documents[0][1].patient_id)
        raise Invalid(
            "Every document of a bundle belongs to the same patient.",
            code="several-patients",
            expression=f"Bundle.entry[{other}].resource.subject",
        )
    return lists[0][1], documents, binaries


def _is_submission_set(listed: Any) -> bool:
    codings = listed.code.coding if listed.code and listed.code.coding else []
    return any(c.system == MHD_LIST_TYPES and c.code == "submissionset" for c in codings)


def _content(position: int, document: AcceptedDocument, binaries: dict[str, tuple[int, Any]], used: set[str]) -> bytes:
    if document.content is not None:
        return document.content
    url = document.content_url or ""
    if url not in binaries:
        raise Invalid(
            f"Bundle.entry[{position}]: its attachment.url {url[:80]} names no Binary of the bundle.",
            code="missing-binary",
            expression=f"Bundle.entry[{position}].resource.content[0].attachment.url",
        )
    where, found = binaries[url]
    if found.data is None or (found.contentType or "").split(";")[0] != document.facts.format.split(";")[0]:
        raise Invalid(
            f"Bundle.entry[{position}]: its Binary has no data or another contentType.",
            code="invalid-binary",
            expression=f"Bundle.entry[{where}].resource.{'data' if found.data is None else 'contentType'}",
        )
    used.add(url)
    data: bytes = found.data
    return data


@router.post("")
@router.post("/", include_in_schema=False)
def transaction(request: Request, body: Annotated[Any, Depends(fhir_body)]) -> FhirResponse:
    """Provide Document Bundle: everything is checked before anything is stored, and stored together or not at all."""
    principal = caller(request, "DocumentReference", "write")
    bundle: Any = validated(body, "Bundle")
    if bundle.type != "transaction":
        raise BadRequest(
            "Carnet takes transaction bundles (IHE MHD Provide Document Bundle).",
            code="invalid-bundle-type",
            expression="Bundle.type",
        )
    _, documents, binaries = _entries(bundle, body.get("entry") or [])
    used: set[str] = set()
    contents = [_content(position, document, binaries, used) for position, document in documents]
    if orphans := set(binaries) - used:
        raise Invalid(
            "Every Binary of a document bundle is the content of one of its documents.",
            code="orphan-binary",
            expression=f"Bundle.entry[{min(binaries[url][0] for url in orphans)}]",
        )
    responses: dict[int, Resource] = {}
    with unit(request) as ctx:
        for (position, document), content in zip(documents, contents, strict=True):
            try:
                view = deposit(ctx, principal, document, content)
            except CarnetError as exc:
                raise in_bundle(exc, f"Bundle.entry[{position}].resource") from None
            rid = resource_id(view)
            responses[position] = {
                "status": "201 Created",
                "location": f"DocumentReference/{rid}/_history/1",
                "etag": etag(view),
            }
            if document.content_url in binaries:
                responses[binaries[document.content_url][0]] = {"status": "201 Created", "location": f"Binary/{rid}"}
    entries = []
    for position, _ in enumerate(bundle.entry):
        response = responses.get(position) or {
            "status": "200 OK",
            "outcome": information("The submission set was accepted; Carnet does not keep it as a List."),
        }
        entries.append({"response": response})
    return respond({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
