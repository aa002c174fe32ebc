"""All SQL of the access domain. A professional's standing toward a record is read in one query."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from carnet.access.matrix import Matrix
from carnet.access.models import (
    AccessSettings,
    Authorisation,
    Block,
    EmergencyEpisode,
    MatrixCell,
    MatrixVersion,
    Representative,
)

_MATRIX_LOCK = 0x6D617472  # an arbitrary constant naming the matrix's advisory lock


@dataclass(frozen=True, slots=True)
class ProfessionalFacts:
    blocked: bool
    authorisation: str | None
    regular_doctor: bool
    episode: str | None
    emergency_opt_out: bool
    regulation_opt_out: bool
    matrix: Matrix  # the matrix in force, restricted to the professional's own profession


def professional_facts(
    session: Session, patient_id: uuid.UUID, rpps: str, profession: str, now: datetime
) -> ProfessionalFacts:
    """Everything the rules need about one professional and one record, in one round trip."""
    blocked = exists().where(
        Block.patient_id == patient_id, Block.professional_rpps == rpps, Block.unblocked_at.is_(None)
    )
    scope = (
        select(Authorisation.scope)
        .where(
            Authorisation.patient_id == patient_id,
            Authorisation.professional_rpps == rpps,
            Authorisation.revoked_at.is_(None),
            Authorisation.expires_at > now,
        )
        .scalar_subquery()
    )
    episode = (
        select(EmergencyEpisode.mode)
        .where(
            EmergencyEpisode.patient_id == patient_id,
            EmergencyEpisode.professional_rpps == rpps,
            EmergencyEpisode.started_at <= now,
            EmergencyEpisode.ends_at > now,
        )
        .order_by(EmergencyEpisode.ends_at.desc())
        .limit(1)
        .scalar_subquery()
    )

    version = select(func.max(MatrixVersion.version)).scalar_subquery()
    classes = (
        select(func.array_agg(MatrixCell.class_code))
        .where(MatrixCell.version == version, MatrixCell.profession == profession)
        .scalar_subquery()
    )

    def setting(column: Any) -> Any:
        return select(column).where(AccessSettings.patient_id == patient_id).scalar_subquery()

    row = session.execute(
        select(
            blocked.label("blocked"),
            scope.label("scope"),
            episode.label("episode"),
            setting(AccessSettings.regular_doctor_rpps).label("regular_doctor_rpps"),
            setting(AccessSettings.emergency_opt_out).label("emergency_opt_out"),
            setting(AccessSettings.regulation_opt_out).label("regulation_opt_out"),
            version.label("matrix_version"),
            classes.label("classes"),
        )
    ).one()
    return ProfessionalFacts(
        blocked=bool(row.blocked),
        authorisation=row.scope,
        regular_doctor=row.regular_doctor_rpps == rpps,
        episode=row.episode,
        emergency_opt_out=bool(row.emergency_opt_out),
        regulation_opt_out=bool(row.regulation_opt_out),
        matrix=Matrix(version=row.matrix_version or 0, cells=frozenset((profession, c) for c in row.classes or ())),
    )


def is_representative(session: Session, patient_id: uuid.UUID, representative_id: uuid.UUID, today: date) -> bool:
    statement = select(Representative.patient_id).where(
        Representative.patient_id == patient_id,
        Representative.representative_id == representative_id,
        Representative.until > today,
    )
    return session.scalars(statement).first() is not None


def represented_by(session: Session, representative_id: uuid.UUID, today: date) -> list[tuple[uuid.UUID, date]]:
    """The minors this patient represents today, and until when."""
    statement = (
        select(Representative.patient_id, Representative.until)
        .where(Representative.representative_id == representative_id, Representative.until > today)
        .order_by(Representative.until.desc())
    )
    return [(row.patient_id, row.until) for row in session.execute(statement)]


def get_settings(session: Session, patient_id: uuid.UUID, *, for_update: bool = False) -> AccessSettings | None:
    statement = select(AccessSettings).where(AccessSettings.patient_id == patient_id)
    return session.scalars(statement.with_for_update() if for_update else statement).one_or_none()


def living_authorisation(session: Session, patient_id: uuid.UUID, rpps: str) -> Authorisation | None:
    statement = select(Authorisation).where(
        Authorisation.patient_id == patient_id,
        Authorisation.professional_rpps == rpps,
        Authorisation.revoked_at.is_(None),
    )
    return session.scalars(statement.with_for_update()).one_or_none()


def authorisations(session: Session, patient_id: uuid.UUID) -> list[Authorisation]:
    statement = select(Authorisation).where(Authorisation.patient_id == patient_id, Authorisation.revoked_at.is_(None))
    return list(session.scalars(statement.order_by(Authorisation.granted_at)))


def living_block(session: Session, patient_id: uuid.UUID, rpps: str) -> Block | None:
    statement = select(Block).where(
        Block.patient_id == patient_id, Block.professional_rpps == rpps, Block.unblocked_at.is_(None)
    )
    return session.scalars(statement).one_or_none()


def blocks(session: Session, patient_id: uuid.UUID) -> list[Block]:
    statement = select(Block).where(Block.patient_id == patient_id, Block.unblocked_at.is_(None))
    return list(session.scalars(statement.order_by(Block.blocked_at)))


def current_matrix(session: Session, *, lock: bool = False) -> Matrix:
    if lock:  # one change at a time: two operators never both make "version n + 1"
        session.execute(select(func.pg_advisory_xact_lock(_MATRIX_LOCK)))
    version = session.scalar(select(func.max(MatrixVersion.version)))
    if version is None:
        return Matrix(version=0, cells=frozenset())
    rows = session.execute(select(MatrixCell.profession, MatrixCell.class_code).where(MatrixCell.version == version))
    return Matrix(version=version, cells=frozenset((p, c) for p, c in rows))


def add_matrix_version(session: Session, matrix: Matrix, *, changed_by: str, reason: str, now: datetime) -> None:
    session.add(MatrixVersion(version=matrix.version, created_at=now, changed_by=changed_by, reason=reason))
    session.flush()
    session.add_all(MatrixCell(version=matrix.version, profession=p, class_code=c) for p, c in sorted(matrix.cells))


def matrix_versions(session: Session, limit: int) -> list[tuple[MatrixVersion, frozenset[tuple[str, str]]]]:
    """The latest `limit` versions, newest first, each with its cells."""
    versions = list(session.scalars(select(MatrixVersion).order_by(MatrixVersion.version.desc()).limit(limit)))
    if not versions:
        return []
    numbers = [v.version for v in versions]
    cells: dict[int, set[tuple[str, str]]] = {n: set() for n in numbers}
    rows = session.execute(
        select(MatrixCell.version, MatrixCell.profession, MatrixCell.class_code).where(MatrixCell.version.in_(numbers))
    )
    for version, profession, class_code in rows:
        cells[version].add((profession, class_code))
    return [(v, frozenset(cells[v.version])) for v in versions]


def episodes_by_id(session: Session, patient_id: uuid.UUID, ids: list[uuid.UUID]) -> list[EmergencyEpisode]:
    if not ids:
        return []
    statement = select(EmergencyEpisode).where(EmergencyEpisode.patient_id == patient_id, EmergencyEpisode.id.in_(ids))
    return list(session.scalars(statement))


def episode_in_force(session: Session, patient_id: uuid.UUID, rpps: str, mode: str, now: datetime) -> bool:
    statement = select(EmergencyEpisode.id).where(
        EmergencyEpisode.patient_id == patient_id,
        EmergencyEpisode.professional_rpps == rpps,
        EmergencyEpisode.mode == mode,
        EmergencyEpisode.started_at <= now,
        EmergencyEpisode.ends_at > now,
    )
    return session.scalars(statement.limit(1)).first() is not None


def running_episodes(session: Session, rpps: str, now: datetime) -> list[EmergencyEpisode]:
    """This professional's episodes in force now, on any record, soonest to end first."""
    statement = select(EmergencyEpisode).where(
        EmergencyEpisode.professional_rpps == rpps,
        EmergencyEpisode.started_at <= now,
        EmergencyEpisode.ends_at > now,
    )
    return list(session.scalars(statement.order_by(EmergencyEpisode.ends_at).limit(50)))


def forget_settings(session: Session, patient_id: uuid.UUID) -> int:
    """A destroyed record's access settings: authorisations, blocks, episodes, opt-outs, its representatives' links
    both ways (the trail keeps what was decided with them)."""
    removed = 0
    for model in (Authorisation, Block, EmergencyEpisode, AccessSettings):
        removed += int(session.execute(delete(model).where(model.patient_id == patient_id)).rowcount)  # type: ignore[attr-defined]
    either = (Representative.patient_id == patient_id) | (Representative.representative_id == patient_id)
    removed += int(session.execute(delete(Representative).where(either)).rowcount)  # type: ignore[attr-defined]
    return removed
