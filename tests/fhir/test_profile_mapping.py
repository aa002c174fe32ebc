"""Entries written in Carnet's JSON schemas (and those stored before issue 19) become valid FHIR resources
whose derived kind is the entry's kind: the JSON paths and the FHIR API store the same thing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from carnet.fhir.wire import model_of
from carnet.records.profile import source_class_of
from carnet.records.profile_checks import accept_resource
from carnet.records.profile_kinds import PROFILE_KINDS, PROFILE_PAYLOAD
from carnet.records.profile_legacy import TO_FHIR, LegacyEntry, legacy_resource
from carnet.records.profile_types import TYPE_OF_KIND, derive
from tests.records.test_profile import ONE_OF_EACH


def test_every_schema_kind_has_a_resource() -> None:
    assert set(TO_FHIR) == set(PROFILE_KINDS) <= set(TYPE_OF_KIND)


@pytest.mark.parametrize("payload", ONE_OF_EACH, ids=[p["kind"] for p in ONE_OF_EACH])
def test_an_entry_becomes_a_resource_of_its_kind(payload: dict[str, Any]) -> None:
    entry = PROFILE_PAYLOAD.validate_python(payload)
    draft = LegacyEntry(uuid.uuid4(), entry.kind, "10", datetime(2026, 3, 1, tzinfo=UTC), "active")
    patient_id = uuid.uuid4()
    resource = legacy_resource(draft, patient_id, entry.model_dump(mode="json"))
    model_of(resource["resourceType"]).model_validate(resource)
    assert accept_resource(resource, patient_id) == resource
    assert derive(resource).kind == entry.kind
    assert source_class_of(resource) is not None
    assert source_class_of(resource)[0] == "10"  # type: ignore[index]
