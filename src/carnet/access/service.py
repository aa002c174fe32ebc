"""The patient's access settings, emergency declarations and legal representatives.

Each use case passes the gate first; the rules it applies are those of `access.policy`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from carnet.access import gate, repository
from carnet.access.actor import Actor, ActorKind, Mode
from carnet.access.matrix import ADVANCE_DIRECTIVES, Matrix
from carnet.access.models import AccessSettings, Authorisation, Block, EmergencyEpisode, Representative
from carnet.access.policy import Action
from carnet.access.schemas import AuthorisationView, EpisodeView, MatrixChange, SettingsView
from carnet.context import Context
from carnet.identity.directory import names_of
from carnet.kit import clock
from carnet.kit.errors import Conflict, Invalid, NotFound
from carnet.kit.identifiers import parse_ins, parse_rpps
from carnet.kit.professions import parse_profession
from carnet.records import repository as records_repository
from carnet.records.keys import data_key
from carnet.records.service import load_record, record_identity, record_summary
from carnet.stats import counting

AUTHORISATION_LIFETIME = timedelta(days=365)
MAX_EPISODE = timedelta(hours=24)
MIN_JUSTIFICATION = 15
DOCTOR = "10"  # the profession a regular doctor ("médecin traitant") has


def _settings_row(ctx: Context, patient_id: uuid.UUID) -> AccessSettings:
    row = repository.get_settings(ctx.session, patient_id, for_update=True)
    if row is None:
        row = AccessSettings(
            patient_id=patient_id,
            regular_doctor_rpps=None,
            emergency_opt_out=False,
            regulation_opt_out=False,
            updated_at=clock.now(),
        )
        ctx.session.add(row)
    row.updated_at = clock.now()
    return row


def grant_authorisation(ctx: Context, patient_id: uuid.UUID, rpps: str, *, scope: str, via: str) -> AuthorisationView:
    """Grant or renew (12 months from now) a professional's authorisation. The caller has passed the gate."""
    if scope not in ("read_write", "deposit"):
        raise Invalid("An authorisation lets a professional read and deposit, or deposit only.", code="invalid-scope")
    now = clock.now()
    row = repository.living_authorisation(ctx.session, patient_id, rpps)
    if row is None:
        row = Authorisation(patient_id=patient_id, professional_rpps=rpps, granted_at=now, revoked_at=None)
        ctx.session.add(row)
    row.scope, row.granted_via, row.expires_at = scope, via, now + AUTHORISATION_LIFETIME
    ctx.session.flush()
    return AuthorisationView(rpps, row.scope, row.granted_via, row.granted_at, row.expires_at)


def authorise(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, rpps: str, *, scope: str = "read_write"
) -> AuthorisationView:
    """The patient authorises a professional, or renews the authorisation, for 12 months."""
    rpps = parse_rpps(rpps)
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=f"authorise:{rpps}:{scope}")
    _refuse_blocked(ctx, patient_id, rpps)
    return grant_authorisation(ctx, patient_id, rpps, scope=scope, via="patient")


def revoke(ctx: Context, actor: Actor, patient_id: uuid.UUID, rpps: str) -> None:
    """Effective on the professional's very next request: standing is read from the database each time."""
    rpps = parse_rpps(rpps)
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=f"revoke:{rpps}")
    row = repository.living_authorisation(ctx.session, patient_id, rpps)
    if row is not None:
        row.revoked_at = clock.now()


def block(ctx: Context, actor: Actor, patient_id: uuid.UUID, rpps: str) -> None:
    """Refuse a professional in every mode, emergencies included; their authorisation ends too."""
    rpps = parse_rpps(rpps)
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=f"block:{rpps}")
    if repository.living_block(ctx.session, patient_id, rpps) is None:
        ctx.session.add(Block(patient_id=patient_id, professional_rpps=rpps, blocked_at=clock.now(), unblocked_at=None))
    authorisation = repository.living_authorisation(ctx.session, patient_id, rpps)
    if authorisation is not None:
        authorisation.revoked_at = clock.now()
    ctx.session.flush()


def unblock(ctx: Context, actor: Actor, patient_id: uuid.UUID, rpps: str) -> None:
    rpps = parse_rpps(rpps)
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=f"unblock:{rpps}")
    row = repository.living_block(ctx.session, patient_id, rpps)
    if row is not None:
        row.unblocked_at = clock.now()


def set_regular_doctor(ctx: Context, actor: Actor, patient_id: uuid.UUID, rpps: str | None) -> None:
    """Designate the regular doctor ("médecin traitant"), who is authorised implicitly; None removes them."""
    rpps = parse_rpps(rpps) if rpps is not None else None
    listed = names_of(ctx.session, [rpps]).get(rpps) if rpps is not None else None
    if listed is not None and listed.profession != DOCTOR:  # a number the directory does not know stays allowed
        raise Invalid("Only a doctor can be your regular doctor.", code="not-a-doctor")
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=f"regular-doctor:{rpps or 'none'}")
    if rpps is not None:
        _refuse_blocked(ctx, patient_id, rpps)
    _settings_row(ctx, patient_id).regular_doctor_rpps = rpps


def _refuse_blocked(ctx: Context, patient_id: uuid.UUID, rpps: str) -> None:
    """An authorisation or a regular doctor the block would silently void: the patient unblocks first."""
    if repository.living_block(ctx.session, patient_id, rpps) is not None:
        raise Conflict("You blocked this professional: unblock them first.", code="professional-blocked")


def set_opt_outs(
    ctx: Context,
    actor: Actor,
    patient_id: uuid.UUID,
    *,
    emergency: bool | None = None,
    regulation: bool | None = None,
) -> None:
    """Opt out of (or back into) emergency override and centre 15 regulation, each on its own."""
    subject = f"opt-outs:emergency={emergency}:regulation={regulation}"
    load_record(ctx, actor, Action.SETTINGS_CHANGE, patient_id, subject=subject)
    row = _settings_row(ctx, patient_id)
    if emergency is not None:
        row.emergency_opt_out = emergency
    if regulation is not None:
        row.regulation_opt_out = regulation


def read_settings(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> SettingsView:
    load_record(ctx, actor, Action.SETTINGS_READ, patient_id)
    row = repository.get_settings(ctx.session, patient_id)
    blocks = repository.blocks(ctx.session, patient_id)
    now = clock.now()
    return SettingsView(
        patient_id=patient_id,
        regular_doctor_rpps=row.regular_doctor_rpps if row else None,
        emergency_opt_out=row.emergency_opt_out if row else False,
        regulation_opt_out=row.regulation_opt_out if row else False,
        authorisations=[
            AuthorisationView(a.professional_rpps, a.scope, a.granted_via, a.granted_at, a.expires_at)
            for a in repository.authorisations(ctx.session, patient_id)
            if a.expires_at > now
        ],
        blocked=[b.professional_rpps for b in blocks],
        blocked_since={b.professional_rpps: b.blocked_at for b in blocks},
    )


def justification_aad(episode_id: uuid.UUID) -> str:
    return f"emergency_episodes:{episode_id}"


def justifications(ctx: Context, patient_id: uuid.UUID, episode_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The written reasons of these episodes, for a use case that has passed the gate (the patient's history)."""
    rows = repository.episodes_by_id(ctx.session, patient_id, episode_ids)
    if not rows:
        return {}
    key = data_key(ctx, patient_id)
    return {row.id: key.decrypt_text(row.justification_ct, aad=justification_aad(row.id)) for row in rows}


def _justification(justification: str) -> str:
    text = justification.strip()
    if len(text) < MIN_JUSTIFICATION:
        raise Invalid(
            f"An emergency access needs a written justification of at least {MIN_JUSTIFICATION} characters.",
            code="justification-required",
        )
    return text


def declare_emergency(
    ctx: Context, actor: Actor, patient_id: uuid.UUID, justification: str, *, duration: timedelta = MAX_EPISODE
) -> EpisodeView:
    """Open an emergency (or regulation) episode for this professional and patient, for one care episode."""
    text = _justification(justification)
    if not timedelta(0) < duration <= MAX_EPISODE:
        raise Invalid("An emergency access lasts one care episode: at most 24 hours.", code="invalid-duration")
    episode_id = uuid.uuid4()
    load_record(ctx, actor, Action.EMERGENCY_DECLARE, patient_id, subject=f"episode:{episode_id}")
    now = clock.now()
    mode = Mode.REGULATION if actor.mode is Mode.REGULATION else Mode.EMERGENCY
    ctx.session.add(
        EmergencyEpisode(
            id=episode_id,
            patient_id=patient_id,
            professional_rpps=actor.ref,
            mode=mode.value,
            justification_ct=data_key(ctx, patient_id).encrypt_text(text, aad=justification_aad(episode_id)),
            started_at=now,
            ends_at=now + duration,
        )
    )
    ctx.session.flush()
    counting.emergency_declared(ctx, at=now, mode=mode.value)
    return EpisodeView(episode_id, mode.value, now, now + duration)


def declare_emergency_for_ins(
    ctx: Context, actor: Actor, ins: str, justification: str, *, duration: timedelta = MAX_EPISODE
) -> tuple[uuid.UUID, EpisodeView]:
    """`declare_emergency` for the patient a professional names by their INS (a portal form knows no record id).

    No living record for the INS answers "no such record", audited in the trail of no record, as a search does.
    """
    canonical = parse_ins(ins).value
    record = records_repository.living_record_for_ins(ctx.session, canonical)
    _justification(justification)  # the same refusal, record or not
    if record is None:
        subject = f"ins-emergency:{canonical[:2]}"
        gate.record_unknown_record(ctx, actor, Action.EMERGENCY_DECLARE, uuid.UUID(int=0), subject)
        raise NotFound(gate.NO_SUCH_RECORD, code="not-found")
    return record.patient_id, declare_emergency(ctx, actor, record.patient_id, justification, duration=duration)


@dataclass(frozen=True, slots=True)
class RunningEpisode:
    """An emergency or regulation episode this professional declared, still in force."""

    patient_id: uuid.UUID
    mode: Mode
    ends_at: datetime


def running_episodes(ctx: Context, actor: Actor) -> list[RunningEpisode]:
    """The episodes in force that this professional declared, soonest to end first (their own declarations:
    no record's content, so no gate; the banner of their space says each one is running)."""
    if actor.kind is not ActorKind.PROFESSIONAL:
        return []
    rows = repository.running_episodes(ctx.session, actor.ref, clock.now())
    return [RunningEpisode(row.patient_id, Mode(row.mode), row.ends_at) for row in rows]


def running_episode(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> RunningEpisode | None:
    """This professional's episode in force on this record, if any: the mode their accesses to it are made in."""
    return next((e for e in running_episodes(ctx, actor) if e.patient_id == patient_id), None)


NO_MATCHING_CHILD = "No child's record matches this INS and date of birth: check them on the papers."


def link_representative(
    ctx: Context,
    actor: Actor,
    minor_id: uuid.UUID,
    representative_id: uuid.UUID,
    *,
    card_presented: bool = False,
    expected_birth_date: date | None = None,
) -> date:
    """Make a patient the legal representative of a minor, until the minor's 18th birthday; return that date.

    At a desk the parent's card is shown (`card_presented`, said only by identity.visits) and the agent copies the
    child's birth date from the papers that prove the link: a record whose birth date differs is not linked.
    """
    for patient_id, subject in (
        (minor_id, f"representative:{representative_id}"),
        (representative_id, f"represents:{minor_id}"),
    ):
        load_record(ctx, actor, Action.REPRESENTATIVE_LINK, patient_id, subject=subject, card_presented=card_presented)
    birth = record_identity(ctx, minor_id).birth_date
    if expected_birth_date is not None and birth != expected_birth_date:
        raise NotFound(NO_MATCHING_CHILD, code="no-matching-child")  # as for an INS with no record: no probing
    majority = _eighteenth_birthday(birth)
    if majority <= clock.today():
        raise Invalid("This patient is of age: nobody represents them.", code="not-a-minor")
    if minor_id == representative_id:
        raise Invalid("A patient cannot represent themselves.", code="invalid-representative")
    ctx.session.merge(
        Representative(patient_id=minor_id, representative_id=representative_id, since=clock.now(), until=majority)
    )
    ctx.session.flush()
    return majority


@dataclass(frozen=True, slots=True)
class Represented:
    """A minor a patient represents: whose record they may switch to, until the minor comes of age."""

    patient_id: uuid.UUID
    given_names: str
    family_name: str
    birth_date: date
    until: date


def represents(ctx: Context, actor: Actor, minor_id: uuid.UUID) -> bool:
    """Whether this patient represents this minor today (their own link: nothing of the minor's record is read)."""
    if actor.kind is not ActorKind.PATIENT:
        return False
    return repository.is_representative(ctx.session, minor_id, uuid.UUID(actor.ref), clock.today())


def has_represented(ctx: Context, actor: Actor) -> bool:
    """Whether this patient represents any minor today (their own links only)."""
    return actor.kind is ActorKind.PATIENT and bool(
        repository.represented_by(ctx.session, uuid.UUID(actor.ref), clock.today())
    )


def represented(ctx: Context, actor: Actor) -> list[Represented]:
    """The minors this patient represents, named from their records: each is a read of that record, audited."""
    if actor.kind is not ActorKind.PATIENT:
        return []
    found = []
    for minor_id, until in repository.represented_by(ctx.session, uuid.UUID(actor.ref), clock.today()):
        identity = record_summary(ctx, actor, minor_id).identity
        if identity is not None:
            found.append(Represented(minor_id, identity.given_names, identity.family_name, identity.birth_date, until))
    return found


def _eighteenth_birthday(birth: date) -> date:
    try:
        return birth.replace(year=birth.year + 18)
    except ValueError:  # born on 29 February
        return date(birth.year + 18, 3, 1)


def change_matrix(ctx: Context, *, operator: str, profession: str, class_code: str, allow: bool, reason: str) -> Matrix:
    """An operator allows or refuses one profession x class cell; the change is a new version saying who and why."""
    from carnet.records.codes import DOCUMENT_CLASSES

    profession = parse_profession(profession)
    if class_code not in DOCUMENT_CLASSES and class_code != ADVANCE_DIRECTIVES:
        raise Invalid(f"Unknown class '{class_code}'; classes: {', '.join(DOCUMENT_CLASSES)}, {ADVANCE_DIRECTIVES}.")
    operator, reason = operator.strip(), reason.strip()
    if not operator or len(reason) < 10:
        raise Invalid("A matrix change names its operator and gives a reason (10 characters at least).")
    current = repository.current_matrix(ctx.session, lock=True)
    cell = (profession, class_code)
    cells = current.cells | {cell} if allow else current.cells - {cell}
    if cells == current.cells:
        raise Invalid(f"Version {current.version} already {'allows' if allow else 'refuses'} that.", code="no-change")
    changed = Matrix(version=current.version + 1, cells=frozenset(cells))
    repository.add_matrix_version(ctx.session, changed, changed_by=operator, reason=reason, now=clock.now())
    ctx.matrix = changed
    return changed


def matrix_in_force(ctx: Context) -> Matrix:
    """The whole matrix in force, for operators' views (the gate keeps it for the unit of work)."""
    return gate.matrix(ctx)


def matrix_history(ctx: Context, *, limit: int = 50) -> list[MatrixChange]:
    """The latest versions of the matrix, newest first, each with what it changed."""
    rows = repository.matrix_versions(ctx.session, limit + 1)  # one more, to say what the oldest shown changed
    changes = []
    for index, (row, cells) in enumerate(rows[:limit]):
        before = rows[index + 1][1] if index + 1 < len(rows) else None
        changes.append(
            MatrixChange(
                version=row.version,
                at=row.created_at,
                by=row.changed_by,
                reason=row.reason,
                allowed=sorted(cells - before) if before is not None else [],
                refused=sorted(before - cells) if before is not None else [],
                first=before is None,
            )
        )
    return changes


def ensure_episode(ctx: Context, actor: Actor, patient_id: uuid.UUID, justification: str | None) -> None:
    """A professional's software acting in emergency or regulation mode carries the justification in its token.

    Its first access to a record declares the episode (audited, opt-outs applied, at most 24 hours); later
    accesses within the episode use it. In other modes this does nothing.
    """
    if actor.mode not in (Mode.EMERGENCY, Mode.REGULATION):
        return
    if repository.episode_in_force(ctx.session, patient_id, actor.ref, actor.mode.value, clock.now()):
        return
    declare_emergency(ctx, actor, patient_id, justification or "")
