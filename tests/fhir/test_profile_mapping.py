"""Every profile entry kind survives the trip to FHIR and back: nothing a patient or doctor entered is lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from carnet.fhir.profile import RESOURCE_OF_KIND, profile_resource, source_class_of
from carnet.fhir.wire import model_of
from carnet.records.profile_kinds import PROFILE_KINDS, PROFILE_PAYLOAD
from carnet.records.schemas import ProfileEntryView
from tests.records.test_profile import ONE_OF_EACH


def test_every_kind_has_a_resource() -> None:
    assert set(RESOURCE_OF_KIND) == set(PROFILE_KINDS)


@pytest.mark.parametrize("payload", ONE_OF_EACH, ids=[p["kind"] for p in ONE_OF_EACH])
def test_an_entry_goes_to_fhir_and_back_unchanged(payload: dict[str, Any]) -> None:
    entry = PROFILE_PAYLOAD.validate_python(payload)
    view = ProfileEntryView(
        id=uuid.uuid4(),
        kind=entry.kind,
        source_class="10",
        author_kind="professional",
        author_ref="10000000017",
        recorded_at=datetime(2026, 3, 1, tzinfo=UTC),
        status="active",
        payload=entry,
    )
    resource = profile_resource(view, uuid.uuid4())
    parsed = model_of(resource["resourceType"]).model_validate(resource)
    back = RESOURCE_OF_KIND[entry.kind].from_fhir(parsed)
    assert PROFILE_PAYLOAD.validate_python(back) == entry
    assert source_class_of(parsed) == "10"
