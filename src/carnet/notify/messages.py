"""Which notices a unit of work's decisions give rise to, and their words. Pure, and never medical."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from carnet.audit.chain import AuditEvent

KINDS = ("new-document", "new-accessor", "emergency-access", "authorisation-change")
CHANNELS = ("email", "sms")
# What a patient gets before choosing: every notice by e-mail, emergencies by SMS too.
DEFAULT_WANTED = (*(f"{kind}:email" for kind in KINDS), "emergency-access:sms")
_AUTHORISATION_SUBJECTS = ("authorise:", "revoke:", "block:", "unblock:", "regular-doctor:")

TEXTS = {
    "new-document": (
        "Nouveau document dans votre dossier / New document in your record",
        "Un nouveau document a été ajouté à votre dossier Carnet. Connectez-vous pour le consulter.\n"
        "A new document was added to your Carnet record. Sign in to read it.",
    ),
    "new-accessor": (
        "Un nouveau professionnel a consulté votre dossier / A new professional accessed your record",
        "Un professionnel de santé a accédé à votre dossier Carnet pour la première fois. L'historique des accès, "
        "dans votre espace, dit qui et quand.\n"
        "A health professional accessed your Carnet record for the first time. The access history in your space "
        "says who and when.",
    ),
    "emergency-access": (
        "Accès d'urgence à votre dossier / Emergency access to your record",
        "Un professionnel de santé a déclaré un accès d'urgence à votre dossier Carnet. L'historique des accès, "
        "dans votre espace, dit qui, quand et pourquoi.\n"
        "A health professional declared an emergency access to your Carnet record. The access history in your "
        "space says who, when and why.",
    ),
    "emergency-access-doctor": (
        "Accès d'urgence au dossier d'un de vos patients / Emergency access to one of your patients' records",
        "Un accès d'urgence a eu lieu au dossier Carnet d'un patient dont vous êtes le médecin traitant. Votre "
        "espace professionnel en donne le détail.\n"
        "An emergency access took place on the Carnet record of a patient whose regular doctor you are. Your "
        "professional space gives the details.",
    ),
    "authorisation-change": (
        "Vos autorisations d'accès ont changé / Your access authorisations changed",
        "Les autorisations d'accès à votre dossier Carnet ont changé. Vous pouvez les revoir dans votre espace.\n"
        "The access authorisations of your Carnet record changed. You can review them in your space.",
    ),
}


@dataclass(frozen=True, slots=True)
class Notice:
    patient_id: uuid.UUID
    kind: str
    event_index: int  # which decision of the unit of work caused it, for a stable Message-ID


def notices(events: Sequence[AuditEvent], first_access: Callable[[uuid.UUID, str], bool]) -> list[Notice]:
    """The notices due for these decisions (refusals give none); `first_access` tells a professional's first."""
    found: list[Notice] = []
    seen_accessors: set[tuple[uuid.UUID, str]] = set()
    for index, event in enumerate(events):
        if not event.allowed:
            continue
        patient = event.chain_id
        if event.action == "document.deposit" and event.actor_kind != "patient":
            found.append(Notice(patient, "new-document", index))
        if event.action == "emergency.declare":
            found.append(Notice(patient, "emergency-access", index))
        if event.action == "card.presence" or (
            event.action == "settings.change" and (event.subject or "").startswith(_AUTHORISATION_SUBJECTS)
        ):
            found.append(Notice(patient, "authorisation-change", index))
        accessor = (patient, event.actor_ref)
        if event.actor_kind == "professional" and accessor not in seen_accessors:
            seen_accessors.add(accessor)
            if first_access(patient, event.actor_ref):
                found.append(Notice(patient, "new-accessor", index))
    return found
