"""DocumentReferences and bundles as a professional's software sends them (for the tests and the load bench)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

from carnet.fhir.codes import CLASS_SYSTEM, LOINC, URI

TEXT = b"Compte rendu de consultation : tension 12/8, pas de traitement.\n"
MHD_LIST_TYPES = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def document(patient_id: str, *, content: bytes | None = TEXT, url: str | None = None, **extra: Any) -> dict[str, Any]:
    attachment: dict[str, Any] = {"contentType": "text/plain", "title": "Consultation du 3 mars"}
    if content is not None:
        attachment["data"] = b64(content)
    if url is not None:
        attachment["url"] = url
    return {
        "resourceType": "DocumentReference",
        "masterIdentifier": {"system": URI, "value": f"urn:uuid:{uuid.uuid4()}"},
        "status": "current",
        "type": {"coding": [{"system": LOINC, "code": "11488-4"}]},
        "category": [{"coding": [{"system": CLASS_SYSTEM, "code": "10"}]}],
        "subject": {"reference": f"Patient/{patient_id}"},
        "description": "Consultation du 3 mars",
        "content": [{"attachment": attachment}],
        "context": {"period": {"start": "2026-03-03"}},
        **extra,
    }


def bundle(patient_id: str, count: int = 2, *, content: bytes = TEXT) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"urn:uuid:{uuid.uuid4()}",
            "resource": {
                "resourceType": "List",
                "status": "current",
                "mode": "working",
                "code": {"coding": [{"system": MHD_LIST_TYPES, "code": "submissionset"}]},
                "subject": {"reference": f"Patient/{patient_id}"},
            },
            "request": {"method": "POST", "url": "List"},
        }
    ]
    for _ in range(count):
        binary_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": document(patient_id, content=None, url=binary_url),
                "request": {"method": "POST", "url": "DocumentReference"},
            }
        )
        entries.append(
            {
                "fullUrl": binary_url,
                "resource": {"resourceType": "Binary", "contentType": "text/plain", "data": b64(content)},
                "request": {"method": "POST", "url": "Binary"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
