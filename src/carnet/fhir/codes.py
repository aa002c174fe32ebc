"""Code systems, identifier systems and extension URLs the FHIR API uses (documented in the README)."""

from __future__ import annotations

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"

INS_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"  # INS-NIR
RPPS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.1"  # national professional id (RPPS, in its 8 + 11 digits form)
FINESS_SYSTEM = "urn:oid:1.2.250.1.71.4.2.2"
CLASS_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.1"  # JDV_J57 document classes (classCode)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
URI = "urn:ietf:rfc:3986"
# The DMP's confidentiality codes: masked from professionals, invisible to the patient, to representatives.
CONFIDENTIALITY_SYSTEM = "urn:oid:1.2.250.1.213.1.1.4.13"
MASKED = "MASQUE_PS"
INVISIBLE_TO_PATIENT = "INVISIBLE_PATIENT"
INVISIBLE_TO_REPRESENTATIVES = "INVISIBLE_REPRESENTANTS_LEGAUX"
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
BREAK_THE_GLASS = "BTG"  # emergency access ("bris de glace")
EMERGENCY_TREATMENT = "ETREAT"  # centre 15 regulation
CCAM = "https://smt.esante.gouv.fr/terminologie-ccam"
NGAP = "https://smt.esante.gouv.fr/terminologie-ngap"
CIP13 = "urn:oid:1.2.250.1.213.2.3.1"

# Carnet's own canonical base for its extensions and code systems.
CARNET = "https://carnet.example/fhir"
EXT_CHANNEL = f"{CARNET}/StructureDefinition/opening-channel"
EXT_CARD = f"{CARNET}/StructureDefinition/card-presentation"
EXT_ACTIVATION = f"{CARNET}/StructureDefinition/activation-code"
EXT_SOURCE_CLASS = f"{CARNET}/StructureDefinition/source-class"
EXT_HIDDEN_UNTIL = f"{CARNET}/StructureDefinition/hidden-from-patient-until"
ERROR_SYSTEM = f"{CARNET}/CodeSystem/error"
AUDIT_ACTION_SYSTEM = f"{CARNET}/CodeSystem/audit-action"

STATUS_TO_FHIR = {"current": "current", "deprecated": "superseded", "withdrawn": "entered-in-error"}
STATUS_FROM_FHIR = {v: k for k, v in STATUS_TO_FHIR.items()}
GENDER_TO_FHIR = {"F": "female", "M": "male", "U": "unknown"}
GENDER_FROM_FHIR = {"female": "F", "male": "M", "unknown": "U", "other": "U"}
