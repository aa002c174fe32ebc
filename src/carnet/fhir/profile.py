"""The medical profile as FHIR resources: each type is one or more profile entry kinds (records/profile_types).

AllergyIntolerance: allergy. Condition: medical_history. Observation: weight (LOINC 29463-7), height
(8302-2), blood_pressure (85354-9), blood_group (882-1 ABO and Rh, or 883-9 ABO and 10331-7 Rh apart), and
any other code: observation.
MedicationStatement: treatment. MedicationRequest: prescription. MedicationDispense: dispensation.
Immunization: vaccination. RelatedPerson: emergency_contact. Procedure: surgical_history.
FamilyMemberHistory: family_history. CareTeam: care_team. Basic: advance_directive and organ_donation.
A resource is returned as it was written; Carnet sets id, meta.versionId, meta.lastUpdated and, when the
writer names none, the extension source-class (the class of the document the entry comes from).
"""

from __future__ import annotations

from carnet.fhir.wire import Resource
from carnet.records.profile_legacy import EXT_FIELD, PROFESSION_SYSTEM
from carnet.records.profile_types import KIND_SYSTEM, PROFILE_TYPES, TYPE_OF_KIND, ProfileType
from carnet.records.schemas import ProfileEntryView

PROFILE_RESOURCES = PROFILE_TYPES
RESOURCE_OF_KIND = TYPE_OF_KIND
ProfileResource = ProfileType

__all__ = [
    "EXT_FIELD",
    "KIND_SYSTEM",
    "PROFESSION_SYSTEM",
    "PROFILE_RESOURCES",
    "RESOURCE_OF_KIND",
    "ProfileResource",
    "profile_resource",
]


def profile_resource(entry: ProfileEntryView) -> Resource:
    """The entry's resource, as stored."""
    return entry.resource
