"""GET /fhir/metadata: the CapabilityStatement, written from one table of what the API serves.

The table is the truth the tests walk: every interaction, search parameter and operation listed here is
called by tests/fhir/test_capability.py, and answers; nothing the routes serve is left out.
"""

from __future__ import annotations

from fastapi import APIRouter

from carnet.fhir.codes import FHIR_VERSION
from carnet.fhir.profile import PROFILE_RESOURCES
from carnet.fhir.wire import FhirResponse, Resource, respond

router = APIRouter(prefix="/fhir", tags=["FHIR"])
PATIENT = ("patient", "reference", "The patient (Patient/<id>); required.")
DATE = "date"

# resource: (interactions, search parameters (name, type, documentation), operations)
SERVED: dict[str, tuple[tuple[str, ...], tuple[tuple[str, str, str], ...], tuple[str, ...]]] = {
    "Patient": (
        ("read", "search-type", "create"),
        (("identifier", "token", "The INS: urn:oid:1.2.250.1.213.1.4.8|<INS>."),),
        ("everything",),
    ),
    "DocumentReference": (
        ("read", "vread", "update", "history-instance", "search-type", "create"),
        (
            PATIENT,
            ("category", "token", "The class (urn:oid:1.2.250.1.213.1.1.4.1|<code>, JDV_J57)."),
            ("type", "token", "The LOINC type."),
            ("date", DATE, "When the document was deposited; prefixes eq, gt, lt, ge, le."),
            ("status", "token", "current, superseded or entered-in-error."),
            ("author", "reference", "With the :identifier modifier: urn:oid:1.2.250.1.71.4.2.1|<RPPS>."),
            ("identifier", "token", "The masterIdentifier (urn:ietf:rfc:3986|<value>)."),
            ("_lastUpdated", DATE, "When the document last changed (status or labels)."),
            ("_sort", "special", "date or -date (by deposit time); by default, newest act first."),
        ),
        (),
    ),
    "Binary": (("read",), (), ()),
    **{name: (("read", "search-type", "create"), (PATIENT,), ()) for name in PROFILE_RESOURCES},
    "Consent": (("read", "search-type", "create", "delete"), (PATIENT,), ()),
    "AuditEvent": (("search-type",), (PATIENT, ("date", DATE, "When; prefixes eq, gt, lt, ge, le.")), ()),
    "ExplanationOfBenefit": (("read", "search-type"), (PATIENT,), ()),
}
COMMON_SEARCH = (
    ("_count", "number", "Page size, 1 to 100 (20 by default)."),
    ("_offset", "number", "Where the page starts."),
)
EVERYTHING = "http://hl7.org/fhir/OperationDefinition/Patient-everything"


def _resource(name: str) -> Resource:
    interactions, params, operations = SERVED[name]
    entry: Resource = {
        "type": name,
        "interaction": [{"code": code} for code in interactions],
    }
    if "search-type" in interactions:
        entry["searchParam"] = [{"name": n, "type": t, "documentation": d} for n, t, d in (*params, *COMMON_SEARCH)]
    if "update" in interactions:
        entry |= {"versioning": "versioned-update", "readHistory": True, "updateCreate": False}
    if name == "DocumentReference":
        entry |= {"conditionalCreate": True, "conditionalUpdate": False}
    if operations:
        entry["operation"] = [{"name": op, "definition": EVERYTHING} for op in operations]
    return entry


def capability_statement() -> Resource:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-22",
        "publisher": "Carnet",
        "kind": "instance",
        "software": {"name": "Carnet", "version": "0.1.0"},
        "implementation": {"description": "Carnet: the national shared medical record"},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Every call but this one needs a bearer token (OAuth2, SMART v1 scopes).",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "description": "Tokens from /oauth/token (client credentials) or the national identity provider.",
                },
                "resource": [_resource(name) for name in SERVED],
                "interaction": [{"code": "transaction", "documentation": "IHE MHD Provide Document Bundle (ITI-65)."}],
            }
        ],
    }


@router.get("/metadata")
def metadata() -> FhirResponse:
    """What this server does: the resources, interactions, search parameters and operations it serves."""
    return respond(capability_statement())
