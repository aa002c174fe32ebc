"""Codes of the record in a patient's words: document classes, types and statuses, as every patient page shows them.

The records keep national codes (JDV_J57 classes, LOINC types); a patient reads what the document is, never
its code. Each label is a catalogue source string, translated where it is shown.
"""

from __future__ import annotations

from carnet.portal.messages import N_

CLASSES = {
    "10": N_("Report"),
    "11": N_("Summary"),
    "31": N_("Medical imaging"),
    "42": N_("Prescription"),
    "43": N_("Dispensation"),
    "44": N_("Care plan"),
    "45": N_("Treatment given"),
    "52": N_("Certificate or declaration"),
    "60": N_("Reimbursement data"),
    "90": N_("Patient's own document"),
    "95": N_("Administrative document"),
}
# A document whose writer did not call it final says so (issue 19: a preliminary report reads preliminary).
DOC_STATUSES = {
    "preliminary": N_("Preliminary"),
    "amended": N_("Amended"),
    "entered-in-error": N_("Entered in error"),
}
# The LOINC types a record accepts (records.codes.DOCUMENT_TYPES), as a patient would name them.
TYPES = {
    "11488-4": N_("Consultation report"),
    "11490-0": N_("Discharge summary"),
    "18842-5": N_("Hospital discharge letter"),
    "57833-6": N_("Medical prescription"),
    "11502-2": N_("Laboratory results"),
    "18748-4": N_("Imaging report"),
    "11369-6": N_("Vaccination record"),
    "11506-3": N_("Progress note"),
    "11504-8": N_("Operation report"),
    "34133-9": N_("Summary of an episode of care"),
    "60591-5": N_("Patient summary"),
    "60593-1": N_("Medicines dispensed"),
    "42348-3": N_("Advance directives"),
}
# Where a document stands in its life (records.codes.DocumentStatus): only current ones are listed by default.
STATUSES = {
    "current": N_("Current"),
    "deprecated": N_("Replaced by a newer version"),
    "withdrawn": N_("Withdrawn by its author"),
}
