"""Posting the official FHIR R4 examples: how each came back, and what Carnet sets on a resource it keeps."""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from httpx import Response

from carnet.fhir.codes import CARNET
from carnet.fhir.wire import dumps
from carnet.records.profile_types import PROFILE_TYPES
from tests.fhir.conftest import FHIR_JSON, Fhir, checked

DEFAULT_FOLDER = Path(__file__).resolve().parents[3] / "shared" / "fhir-r4-examples"
OUTCOMES = ("accepted equal", "changed", "refused with element", "refused without element", "5xx")


def examples_folder() -> Path:
    return Path(os.environ.get("CARNET_FHIR_EXAMPLES", str(DEFAULT_FOLDER)))


def profile_examples(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.json") if p.name.split("-")[0] in PROFILE_TYPES)


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, dict):
        return {k: new if k == "reference" and v == old else _replace(v, old, new) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    return value


def pointed_at(example: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """The example with its patient (every reference to it) pointed at the test record; nothing else changed."""
    element = PROFILE_TYPES[example["resourceType"]].subject
    subject = example.get(element)
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        return copy.deepcopy(example)
    result: dict[str, Any] = _replace(example, reference, f"Patient/{patient_id}")
    return result


def without_server_elements(resource: dict[str, Any]) -> dict[str, Any]:
    """What the writer sent: the elements Carnet sets (id, meta.versionId, meta.lastUpdated, its extensions) out."""
    kept = {k: v for k, v in resource.items() if k != "id"}
    meta = {k: v for k, v in kept.pop("meta", {}).items() if k not in ("versionId", "lastUpdated")}
    if meta:
        kept["meta"] = meta
    extensions = [e for e in kept.pop("extension", []) if not str(e.get("url", "")).startswith(CARNET)]
    if extensions:
        kept["extension"] = extensions
    return kept


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)
    lines: list[str] = field(default_factory=list)

    def add(self, outcome: str, name: str, detail: str) -> None:
        self.counts[outcome] += 1
        self.lines.append(f"{outcome:<24} {name:<55} {detail}")

    def report(self) -> str:
        total = sum(self.counts.values())
        head = [f"FHIR R4 examples of the profile types: {total} posted"]
        head += [f"  {outcome:<24} {self.counts[outcome]}" for outcome in OUTCOMES]
        return "\n".join([*head, "", *self.lines])


def first_issue(body: dict[str, Any]) -> tuple[str | None, str]:
    issue = (body.get("issue") or [{}])[0]
    expression = (issue.get("expression") or [None])[0]
    return expression, str(issue.get("diagnostics", ""))


def difference(sent: Any, got: Any, where: str = "") -> str:
    """The first place two JSON values differ, for the report."""
    if isinstance(sent, dict) and isinstance(got, dict):
        for key in sorted(set(sent) | set(got)):
            if sent.get(key) != got.get(key):
                return difference(sent.get(key), got.get(key), f"{where}.{key}")
    if isinstance(sent, list) and isinstance(got, list) and len(sent) == len(got):
        for index, (a, b) in enumerate(zip(sent, got, strict=True)):
            if a != b:
                return difference(a, b, f"{where}[{index}]")
    return f"{where}: sent {json.dumps(sent)[:80]}, got {json.dumps(got)[:80]}"


# Patient and Consent examples (tests/conformance/test_patient_examples.py).


def examples_of(folder: Path, resource_type: str) -> list[Path]:
    return sorted(p for p in folder.glob(f"{resource_type}-*.json"))


def with_patient(example: dict[str, Any], element: str, patient_id: str) -> dict[str, Any]:
    """The example with the patient its `element` names (and every reference to it) pointed at the test record."""
    subject = example.get(element)
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        return copy.deepcopy(example)
    result: dict[str, Any] = _replace(example, reference, f"Patient/{patient_id}")
    return result


def without_patient_server_elements(resource: dict[str, Any]) -> dict[str, Any]:
    """What the writer of a Patient sent: also without `active`, which Carnet sets from the record's state."""
    kept = without_server_elements(resource)
    kept.pop("active", None)
    return kept


def exact(value: Any) -> Any:
    """A JSON value read with carnet.fhir.wire.loads, with each number as the text it was written in, so two
    values are equal only if their decimals have the same digits (66.90 is not 66.9)."""
    from carnet.fhir.wire import WrittenNumber

    if isinstance(value, dict):
        return {k: exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [exact(v) for v in value]
    if isinstance(value, WrittenNumber):
        return ("number", value.text)
    return value


@dataclass
class TypeTally(Tally):
    """A Tally whose report names the type it counts."""

    title: str = "FHIR R4 examples"

    def report(self) -> str:
        total = sum(self.counts.values())
        head = [f"{self.title}: {total} posted"]
        head += [f"  {outcome:<24} {self.counts[outcome]}" for outcome in OUTCOMES]
        return "\n".join([*head, "", *self.lines])


def post_as_written(caller: Fhir, path: str, resource: dict[str, Any]) -> Response:
    """The resource as JSON text with its numbers as written (fhir.wire), not as Python floats would print."""
    headers = caller.headers({"Content-Type": FHIR_JSON})
    return checked(caller.client.post(f"/fhir/{path}", content=dumps(resource).encode(), headers=headers))


DOCUMENT_SERVER_META = ("versionId", "lastUpdated")


def document_examples(folder: Path) -> list[Path]:
    """The official DocumentReference examples and the transaction Bundles (MHD's Provide Document Bundle)."""
    return sorted(p for p in folder.glob("*.json") if p.name.split("-")[0] in ("DocumentReference", "Bundle"))


def document_pointed_at(example: dict[str, Any], patient_id: str) -> dict[str, Any]:
    """A DocumentReference (or each of a Bundle's) with its subject, and every reference to it, at the test record."""
    result: dict[str, Any] = copy.deepcopy(example)
    if example["resourceType"] == "Bundle":
        for entry in result.get("entry") or []:
            resource = entry.get("resource")
            if isinstance(resource, dict) and resource.get("resourceType") == "DocumentReference":
                entry["resource"] = document_pointed_at(resource, patient_id)
        return result
    subject = example.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if isinstance(reference, str) and reference.startswith("Patient/"):
        result = _replace(example, reference, f"Patient/{patient_id}")
    return result


def without_document_server_elements(read: dict[str, Any], sent: dict[str, Any]) -> dict[str, Any]:
    """A DocumentReference read without what Carnet sets (docs/fhir-documents.md): id, meta.versionId and
    meta.lastUpdated, its extensions, the attachment's url (and size, hash, date when the writer gave none)."""
    kept = without_server_elements(read)
    kept.pop("id", None)
    if "date" not in sent:
        kept.pop("date", None)
    written = sent["content"][0]["attachment"]
    attachment = kept["content"][0]["attachment"]
    for element in ("url", "size", "hash"):
        if element == "url" or element not in written:
            attachment.pop(element, None)
    return kept


def document_as_sent(sent: dict[str, Any]) -> dict[str, Any]:
    """What Carnet keeps of a DocumentReference sent: all of it but id, meta.versionId/lastUpdated and the
    attachment's data and url (the content is kept apart, and read at the Binary)."""
    kept = without_server_elements({**sent, "id": "x"})
    attachment = kept["content"][0]["attachment"]
    for element in ("data", "url"):
        attachment.pop(element, None)
    return kept
