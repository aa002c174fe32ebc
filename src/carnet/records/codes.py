"""Code systems of the record: document classes (JDV_J57), document types (LOINC), channels, formats."""

from __future__ import annotations

from enum import StrEnum

from carnet.kit.errors import Invalid, UnsupportedMedia

# Classes of the national value set JDV_J57 (classCode of a document).
DOCUMENT_CLASSES: dict[str, str] = {
    "10": "Compte rendu",
    "11": "Synthèse",
    "31": "Imagerie médicale",
    "42": "Prescription",
    "43": "Dispensation",
    "44": "Plan de soins",
    "45": "Traitement administré",
    "52": "Certificat / déclaration",
    "60": "Données de remboursement",
    "90": "Déposé par le patient",
    "95": "Document de gestion",
}
PATIENT_CLASS = "90"

# Document types (LOINC) accepted in a record.
DOCUMENT_TYPES: dict[str, str] = {
    "11488-4": "Consultation note",
    "11490-0": "Discharge summary",
    "18842-5": "Discharge summary (hospital)",
    "57833-6": "Prescription",
    "11502-2": "Laboratory report",
    "18748-4": "Diagnostic imaging report",
    "11369-6": "Immunization history",
    "11506-3": "Progress note",
    "11504-8": "Surgical operation note",
    "34133-9": "Summary of episode note",
    "60591-5": "Patient summary",
    "60593-1": "Medication dispensed",
    "42348-3": "Advance directives",
}


class Channel(StrEnum):
    """How a record was opened (SPEC §2)."""

    ONLINE = "online"
    PHARMACY = "pharmacy"
    INSURANCE_DESK = "insurance_desk"
    PROFESSIONAL = "professional"
    HOSPITAL = "hospital"


class DocumentFormat(StrEnum):
    PDF = "application/pdf"
    CDA = "text/xml"  # CDA R2, as the national frameworks label it
    TEXT = "text/plain"
    JPEG = "image/jpeg"
    PNG = "image/png"


class DocumentStatus(StrEnum):
    CURRENT = "current"
    DEPRECATED = "deprecated"  # replaced by a newer version
    WITHDRAWN = "withdrawn"  # withdrawn by its author; kept, never shown as current


def parse_class(code: str) -> str:
    if code not in DOCUMENT_CLASSES:
        raise Invalid(
            f"Unknown document class '{code}'; the classes are {', '.join(DOCUMENT_CLASSES)} (JDV_J57).",
            code="invalid-class",
        )
    return code


def parse_type(code: str) -> str:
    if code not in DOCUMENT_TYPES:
        raise Invalid(
            f"Unknown document type '{code}'; accepted LOINC codes: {', '.join(DOCUMENT_TYPES)}.",
            code="invalid-type",
        )
    return code


def parse_format(mime: str) -> DocumentFormat:
    try:
        return DocumentFormat(mime.split(";")[0].strip().lower())
    except ValueError:
        raise UnsupportedMedia(
            f"Documents of type '{mime}' are not accepted; accepted: {', '.join(f.value for f in DocumentFormat)}.",
        ) from None
