"""The patient's view of their trail, in plain words: who did what to which part of the record, when, how.

Lines about a document the reader may not see (hidden from the patient until explained, or from legal
representatives) are left out, by the gate's own list filter and in the query that cuts the page: the
history never reveals what the record itself keeps hidden, not even by a short page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import Select

from carnet.access import gate
from carnet.access.actor import Actor, ActorKind
from carnet.access.gate import Access
from carnet.access.policy import Action
from carnet.access.service import justifications
from carnet.audit import repository
from carnet.audit.chain import NO_RECORD
from carnet.audit.models import AuditEntry
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import Invalid
from carnet.kit.professions import PROFESSIONS
from carnet.records import repository as records_repository
from carnet.records.documents import document_title
from carnet.records.models import Document
from carnet.records.service import load_record

Language = Literal["fr", "en"]
PARIS = ZoneInfo("Europe/Paris")
EMERGENCY_MODES = ("emergency", "regulation")

VERBS: dict[Language, dict[str, str]] = {
    "fr": {
        "record.open": "a ouvert votre dossier",
        "record.read": "a consulté l'identité et l'état de votre dossier",
        "record.close": "a fermé votre dossier",
        "record.reopen": "a rouvert votre dossier",
        "record.request-destruction": "a demandé la destruction de votre dossier",
        "document.list": "a consulté la liste de vos documents",
        "document.read": "a consulté {what}",
        "document.deposit": "a déposé {what}",
        "document.replace": "a remplacé {what}",
        "document.withdraw": "a retiré {what}",
        "document.mask": "a masqué ou démasqué {what}",
        "document.flag": "a changé la visibilité de {what}",
        "profile.read": "a consulté votre profil médical",
        "profile.write": "a ajouté une information à votre profil médical",
        "profile.retire": "a retiré une information de votre profil médical",
        "settings.change": "a changé vos réglages d'accès ({detail})",
        "settings.read": "a consulté vos réglages d'accès",
        "history.read": "a consulté l'historique des accès",
        "emergency.declare": "a déclaré un accès d'urgence à votre dossier",
        "card.presence": "a été autorisé par la présentation de votre carte Vitale",
        "representative.link": "a enregistré un représentant légal",
        "account.activation-code": "a remis un code d'activation de votre compte, sur présentation de votre carte",
        "account.activate": "a activé votre compte en ligne",
        "login.password": "s'est connecté à votre compte (mot de passe)",
        "login.second-factor": "s'est connecté à votre compte (second facteur)",
        "login.reauthenticate": "a confirmé son identité pour une action sensible",
        "logout": "s'est déconnecté",
        "logout.everywhere": "a fermé toutes les sessions de votre compte",
        "recovery.request": "a demandé la réinitialisation de votre mot de passe",
        "recovery.complete": "a changé votre mot de passe par réinitialisation",
        "reimbursement.read": "a consulté vos remboursements",
        "reimbursement.feed": "a ajouté des lignes de remboursement",
        "trail.read": "a consulté la trace des accès à votre dossier (contrôle)",
    },
    "en": {
        "record.open": "opened your record",
        "record.read": "read your record's identity and state",
        "record.close": "closed your record",
        "record.reopen": "reopened your record",
        "record.request-destruction": "asked for your record to be destroyed",
        "document.list": "read the list of your documents",
        "document.read": "read {what}",
        "document.deposit": "deposited {what}",
        "document.replace": "replaced {what}",
        "document.withdraw": "withdrew {what}",
        "document.mask": "masked or unmasked {what}",
        "document.flag": "changed who may see {what}",
        "profile.read": "read your medical profile",
        "profile.write": "added to your medical profile",
        "profile.retire": "removed an entry from your medical profile",
        "settings.change": "changed your access settings ({detail})",
        "settings.read": "read your access settings",
        "history.read": "read the access history",
        "emergency.declare": "declared an emergency access to your record",
        "card.presence": "was authorised by the presentation of your carte Vitale",
        "representative.link": "registered a legal representative",
        "account.activation-code": "gave out an activation code for your account, on sight of your card",
        "account.activate": "activated your online account",
        "login.password": "signed in to your account (password)",
        "login.second-factor": "signed in to your account (second factor)",
        "login.reauthenticate": "confirmed their identity for a sensitive action",
        "logout": "signed out",
        "logout.everywhere": "ended every session of your account",
        "recovery.request": "asked for your password to be reset",
        "recovery.complete": "changed your password through a reset",
        "reimbursement.read": "read your reimbursements",
        "reimbursement.feed": "added reimbursement lines",
        "trail.read": "read the trail of accesses to your record (an audit)",
    },
}
MODES: dict[Language, dict[str, str]] = {
    "fr": {
        "emergency": ", en urgence (bris de glace)",
        "regulation": ", en régulation (centre 15)",
        "deposit-only": ", en dépôt seul",
        "normal": ", en mode normal",
    },
    "en": {
        "emergency": ", in emergency mode (break-glass)",
        "regulation": ", as centre 15 regulation",
        "deposit-only": ", in deposit-only mode",
        "normal": ", in normal mode",
    },
}
WORDS: dict[Language, dict[str, str]] = {
    "fr": {
        "you": "Vous",
        "representative": "Votre représentant légal",
        "holder": "Le titulaire du dossier",
        "system": "Carnet (traitement {ref})",
        "anonymous": "Quelqu'un (adresse {ref})",
        "desk": "Un agent d'accueil de l'Assurance maladie ({ref})",
        "operator": "Un opérateur de Carnet ({ref})",
        "document": "votre document « {title} » du {date}",
        "unknown": "un document",
        "refused": "— refusé",
        "tried": "a tenté : ",
        "because": "Motif :",
    },
    "en": {
        "you": "You",
        "representative": "Your legal representative",
        "holder": "The record's holder",
        "system": "Carnet (job {ref})",
        "anonymous": "Someone (address {ref})",
        "desk": "An insurance desk agent ({ref})",
        "operator": "A Carnet operator ({ref})",
        "document": "your document “{title}” of {date}",
        "unknown": "a document",
        "refused": "— refused",
        "tried": "tried: ",
        "because": "Reason:",
    },
}


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor_kind: str
    actor_ref: str
    profession: str | None
    mode: str
    action: str
    allowed: bool
    emergency: bool
    text: str
    # The same line's parts, for a reader that words it itself (the portal, through its catalogue).
    document_title: str | None = None
    document_date: date | None = None
    reason: str | None = None  # an emergency's written justification
    detail: str | None = None  # which setting changed: authorise, revoke, block, unblock, regular-doctor, ...
    about: str | None = None  # the RPPS number a settings change concerns


@dataclass(frozen=True, slots=True)
class HistoryPage:
    lines: list[HistoryLine]
    next_offset: int | None
    professionals: list[tuple[str, str | None]] = field(default_factory=list)  # who the trail names (filter)


def _subject_id(subject: str | None, prefix: str) -> uuid.UUID | None:
    if subject and subject.startswith(prefix):
        try:
            return uuid.UUID(subject.removeprefix(prefix))
        except ValueError:
            return None
    return None


def _subject_document(subject: str | None) -> uuid.UUID | None:
    return _subject_id(subject, "document:")


def _documents_named(ctx: Context, patient_id: uuid.UUID, rows: list[AuditEntry]) -> dict[uuid.UUID, Document]:
    wanted = [d for d in (_subject_document(row.subject) for row in rows) if d is not None]
    return {d.id: d for d in records_repository.documents_by_id(ctx.session, patient_id, wanted)}


def _unseen(access: Access, now: datetime) -> Select[str]:
    """What the gate keeps from this reader, as trail subjects: lines about them are left out before paging."""
    return records_repository.unseen_document_subjects(access.patient_id, gate.filter_for(access), now)


def trail_page(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[AuditEntry], int | None]:
    """The raw entries of a record's trail, newest first, and the next page's offset.

    For the patient (or a representative): their history, without the lines about documents kept from them.
    For an operator: the trail of any record, audited in that record's own trail; entries name who, when,
    what kind of access and which item by id, never a title or any content.
    """
    unseen = None
    if actor.kind is ActorKind.OPERATOR:
        known = records_repository.get_record(ctx.session, patient_id) is not None
        chain = patient_id if known else NO_RECORD  # probes of unknown ids create no chains
        gate.authorize_unscoped(ctx, actor, Action.TRAIL_READ, chain_id=chain, subject=f"record:{patient_id}")
        if not known:
            return [], None
    else:
        _, access = load_record(ctx, actor, Action.HISTORY_READ, patient_id)
        unseen = _unseen(access, clock.now())
    rows = repository.chain_page(
        ctx.session,
        patient_id,
        actor_ref=None,
        modes=None,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        unseen_subjects=unseen,
    )
    return rows[:limit], offset + limit if len(rows) > limit else None


def access_history(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    professional: str | None = None,
    mode: str | None = None,
    emergency_only: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
    language: Language = "fr",
    limit: int = 50,
    offset: int = 0,
    hide_own: bool = False,
) -> HistoryPage:
    """A page of who accessed the record, newest first, in the reader's language.

    Filters: one professional (RPPS), one mode (normal, emergency, regulation, deposit-only), the emergency
    modes only, a period; `hide_own` leaves out the reader's own doings (their reads of their record, their
    sign-ins), which would otherwise bury everyone else's.
    """
    if mode is not None and mode not in MODES["en"]:
        raise Invalid(f"Unknown mode '{mode}'; modes: {', '.join(MODES['en'])}.", code="invalid-mode")
    _, access = load_record(ctx, actor, Action.HISTORY_READ, patient_id)
    now = clock.now()
    rows = repository.chain_page(
        ctx.session,
        patient_id,
        actor_ref=professional,
        modes=EMERGENCY_MODES if emergency_only else ((mode,) if mode else None),
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        unseen_subjects=_unseen(access, now),
        without_patient=actor.ref if hide_own and actor.kind is ActorKind.PATIENT else None,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    documents = _documents_named(ctx, patient_id, rows)
    episodes = [e for e in (_subject_id(row.subject, "episode:") for row in rows) if e is not None]
    reasons = justifications(ctx, patient_id, episodes)
    lines = []
    for row in rows:
        document_id = _subject_document(row.subject)
        document = documents.get(document_id) if document_id else None
        what, title = WORDS[language]["unknown"], None
        if document is not None:
            title = document_title(ctx, document)
            date = document.act_date.strftime("%d/%m/%Y" if language == "fr" else "%d %B %Y")
            what = WORDS[language]["document"].format(title=title, date=date)
        reason = reasons.get(_subject_id(row.subject, "episode:") or uuid.UUID(int=0))
        lines.append(_line(row, actor, what, language, reason, (title, document.act_date) if document else None))
    professionals = repository.professionals_in(ctx.session, patient_id)
    return HistoryPage(lines=lines, next_offset=offset + limit if more else None, professionals=professionals)


def _who(row: AuditEntry, reader: Actor, language: Language) -> str:
    words = WORDS[language]
    if row.actor_kind == "patient":
        if row.actor_ref == reader.ref:
            return words["you"]
        # Another patient in this record's trail: its holder (when a representative reads), or a representative.
        return words["holder"] if row.actor_ref == str(row.chain_id) else words["representative"]
    if row.actor_kind in ("system", "anonymous", "desk", "operator"):
        return words[row.actor_kind].format(ref=row.actor_ref)
    label = PROFESSIONS.get(row.profession or "", row.profession or "?")
    return f"{label} (RPPS {row.actor_ref})"


def _line(
    row: AuditEntry,
    reader: Actor,
    what: str,
    language: Language,
    reason: str | None,
    document: tuple[str | None, date] | None,
) -> HistoryLine:
    detail, _, rest = (row.subject or "").partition(":")
    about = rest.split(":")[0] or None
    verb = VERBS[language].get(row.action, row.action).format(what=what, detail=detail)
    when = row.at.astimezone(PARIS)
    stamp = when.strftime("le %d/%m/%Y à %H:%M" if language == "fr" else "on %d %B %Y at %H:%M")
    mode = MODES[language].get(row.mode, "") if row.actor_kind == "professional" else ""
    who, words = _who(row, reader, language), WORDS[language]
    if row.allowed:
        text = f"{who} {verb} {stamp}{mode}."
        if reason is not None:
            text += f" {words['because']} « {reason} »." if language == "fr" else f" {words['because']} “{reason}”."
    else:
        text = f"{who} {words['tried']}{verb} {stamp}{mode} {words['refused']}."
    return HistoryLine(
        at=row.at,
        actor_kind=row.actor_kind,
        actor_ref=row.actor_ref,
        profession=row.profession,
        mode=row.mode,
        action=row.action,
        allowed=row.allowed,
        emergency=row.mode in EMERGENCY_MODES,
        text=text,
        document_title=document[0] if document is not None else None,
        document_date=document[1] if document is not None else None,
        reason=reason,
        detail=detail if row.action == "settings.change" else None,
        about=about if row.action == "settings.change" and _is_rpps(about) else None,
    )


def _is_rpps(value: str | None) -> bool:
    return value is not None and len(value) == 11 and value.isdigit()
