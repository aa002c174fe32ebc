"""The trail as an operator with the audit role reads it: whether it is intact, its last seal, one professional's
accesses as CSV. Identifiers, codes and times only, never medical content; each reading is itself traced.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from carnet.access import gate
from carnet.access.actor import Actor
from carnet.access.policy import Action
from carnet.audit import repository
from carnet.audit.chain import Break
from carnet.audit.export import export_professional
from carnet.audit.seal import SealProblem, verify_seals
from carnet.audit.service import verify
from carnet.context import Context
from carnet.identity.operators import OperatorView, require_role
from carnet.kit.errors import Invalid
from carnet.kit.identifiers import parse_rpps

PARIS = ZoneInfo("Europe/Paris")  # an operator's days are French days
AUDIT_ROLE = "audit"
LONGEST_EXPORT = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class LastSeal:
    at: datetime
    leaves: int  # chain heads in the signed log, up to this seal
    key_id: str


@dataclass(frozen=True, slots=True)
class TrailStatus:
    chains: int
    entries: int
    breaks: list[Break]
    seal_problems: list[SealProblem]
    signatures_checked: bool
    seconds: float
    last_seal: LastSeal | None
    sealed_entries: int  # of `written_entries`, those a seal covers
    written_entries: int

    @property
    def intact(self) -> bool:
        return not self.breaks and not self.seal_problems


def trail_status(ctx: Context, actor: Actor, operator: OperatorView, public_key: bytes | None) -> TrailStatus:
    """Verify every chain and every seal now (as `carnet audit verify` does), timed, with the last seal."""
    require_role(operator, AUDIT_ROLE)
    gate.authorize_unscoped(ctx, actor, Action.TRAIL_READ, subject="trail:verify")
    started = time.perf_counter()
    report = verify(ctx.session)
    problems = verify_seals(ctx.session, public_key)
    seconds = time.perf_counter() - started
    seal = repository.latest_seal(ctx.session)
    sealed, written = repository.sealed_and_written(ctx.session)
    return TrailStatus(
        chains=report.chains,
        entries=report.entries,
        breaks=report.breaks,
        seal_problems=problems,
        signatures_checked=public_key is not None,
        seconds=seconds,
        last_seal=LastSeal(seal.created_at, seal.size, seal.key_id) if seal is not None else None,
        sealed_entries=sealed,
        written_entries=written,
    )


def last_seal(ctx: Context, operator: OperatorView) -> tuple[LastSeal | None, int, int]:
    """The last seal and how much of the trail the seals cover, without verifying anything (a cheap read)."""
    require_role(operator, AUDIT_ROLE)
    seal = repository.latest_seal(ctx.session)
    sealed, written = repository.sealed_and_written(ctx.session)
    return (LastSeal(seal.created_at, seal.size, seal.key_id) if seal is not None else None), sealed, written


def period_bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """French days `since` to `until`, both included, as the instants they start and end at."""
    if until < since:
        raise Invalid("The period ends before it starts.", code="invalid-period")
    if until - since > LONGEST_EXPORT:
        raise Invalid("Export at most one year at a time.", code="period-too-long")
    start = datetime.combine(since, datetime.min.time(), PARIS)
    end = datetime.combine(until + timedelta(days=1), datetime.min.time(), PARIS)
    return start, end


def professional_accesses(
    ctx: Context, actor: Actor, operator: OperatorView, rpps: str, since: date, until: date
) -> tuple[str, int]:
    """Every entry of one professional from `since` to `until` (French days, included) as CSV, and how many."""
    require_role(operator, AUDIT_ROLE)
    number = parse_rpps(rpps)
    start, end = period_bounds(since, until)
    gate.authorize_unscoped(ctx, actor, Action.TRAIL_READ, subject=f"professional:{number}")
    out = io.StringIO()
    count = export_professional(ctx.session, number, start, end, out)
    return out.getvalue(), count
