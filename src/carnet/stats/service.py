"""The statistics' read API, for the operators' pages, the pharmacies' counter and `carnet stats`.

Who may read: an operator whose account is in service and holds the `statistics` role (read from the
account here, at each call, so a role withdrawn takes effect at once and no caller can forget the check),
or a system job (`Actor.system`, built only by code running on the server, as `carnet stats` does: whoever
runs it holds the database's credentials already). A pharmacy reads its own remuneration only
(`pharmacy_earnings`). No statistic names a patient or says anything of a record's content.

Periods are Paris-local: days, weeks from Monday, months, each labelled by its first day. A week or month
is counted whole, and listed when it starts on or before `until` and ends on or after `since`.
"""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args

from carnet.access.actor import Actor, ActorKind
from carnet.context import Context
from carnet.identity.operators import OperatorView, require_role
from carnet.kit import clock
from carnet.kit.errors import Forbidden, Invalid
from carnet.kit.geography import Departement, departements
from carnet.kit.identifiers import parse_finess
from carnet.records.codes import DOCUMENT_CLASSES
from carnet.stats import repository
from carnet.stats.calendar import month_start, next_month, paris_day, week_start

Period = Literal["day", "week", "month"]
By = Literal["channel", "region", "departement"]
Cell = str | int | date | Decimal | bool | None

TARGET = 40_000_000  # openings the campaign aims at in five years
MAX_DAYS = 366  # a daily count longer than a year is a chart nobody reads: weeks or months then


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def to_csv(self) -> str:
        """RFC 4180: a header line, commas, CRLF line ends; ISO dates, amounts with two decimals."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows([cell_text(cell) for cell in row] for row in self.rows)
        return buffer.getvalue()


def cell_text(cell: Cell) -> str:
    """A cell as CSV and the terminal write it."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, Decimal):
        return f"{cell:.2f}"
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


@dataclass(frozen=True, slots=True)
class Overview:
    total_openings: int
    active_records: int
    target: int
    last_7_days: int  # the current weekly rate
    projected_on: date | None  # when the target is reached at that rate; None when the rate is 0
    this_week: int  # openings since Monday, Paris time
    today: date  # the Paris day the figures are of
    closed_records: int = 0
    destroyed_records: int = 0


def _statistics_reader(ctx: Context, actor: Actor) -> None:
    if actor.kind is ActorKind.SYSTEM:
        return
    if actor.kind is not ActorKind.OPERATOR:
        raise Forbidden("Statistics are read by operators with the statistics role.", code="missing-role")
    try:
        operator_id = uuid.UUID(actor.ref)
    except ValueError:
        raise Forbidden("This operator account is not in service.", code="unknown-operator") from None
    found = repository.operator_roles(ctx.session, operator_id)
    if found is None:
        raise Forbidden("This operator account is not in service.", code="unknown-operator")
    login, roles = found
    require_role(OperatorView(operator_id, login, roles), "statistics")


def _checked_period(since: date, until: date) -> None:
    if since > until:
        raise Invalid("The period ends before it starts.", code="invalid-period")


def _choice(value: str | None, allowed: tuple[str, ...], what: str, code: str) -> None:
    if value is not None and value not in allowed:
        raise Invalid(f"{what}: choose {', '.join(allowed[:-1])} or {allowed[-1]}; not '{value}'.", code=code)


def _starts(period: Period, day: date) -> date:
    return day if period == "day" else week_start(day) if period == "week" else month_start(day)


def _following(period: Period, start: date) -> date:
    if period == "month":
        return next_month(start)
    return start + timedelta(days=1 if period == "day" else 7)


def openings(ctx: Context, actor: Actor, *, period: Period, by: By | None, since: date, until: date) -> Table:
    """Records opened per period (and per channel, region or département when `by` says so).

    Without `by` every period of the range has its row, zeros included, so a chart has no gap; with it,
    only the groups that opened something in a period.
    """
    _choice(period, get_args(Period), "Period", "invalid-period")
    _choice(by, get_args(By), "Count by", "invalid-by")
    _checked_period(since, until)
    if period == "day" and (until - since).days >= MAX_DAYS:
        raise Invalid(
            f"Daily counts cover at most {MAX_DAYS} days: choose weeks or months for a longer period.",
            code="period-too-long",
        )
    _statistics_reader(ctx, actor)
    first = _starts(period, since)
    found = repository.openings(ctx.session, period, by, first, until)
    if by is None:
        counted = {row[0]: int(row[1]) for row in found}
        rows: list[tuple[Cell, ...]] = []
        start = first
        while start <= until:
            rows.append((start, counted.get(start, 0)))
            start = _following(period, start)
        return Table(("period", "openings"), tuple(rows))
    if by == "channel":
        return Table(("period", "channel", "openings"), tuple((r[0], r[1], int(r[2])) for r in found))
    places = departements()
    if by == "region":
        names = {d.region: d.region_name for d in places.values()}
        return Table(
            ("period", "region", "region_name", "openings"),
            tuple((r[0], r[1], names.get(r[1], ""), int(r[2])) for r in found),
        )
    unknown = Departement("", "", "", "")
    return Table(
        ("period", "departement", "departement_name", "region", "openings"),
        tuple((r[0], r[1], places.get(r[1], unknown).name, places.get(r[1], unknown).region, int(r[2])) for r in found),
    )


def documents(ctx: Context, actor: Actor, *, since: date, until: date) -> Table:
    """Documents deposited per month and class (a new version of a document is a deposit too)."""
    _checked_period(since, until)
    _statistics_reader(ctx, actor)
    found = repository.documents(ctx.session, month_start(since), until)
    return Table(
        ("period", "class", "class_name", "documents"),
        tuple((r[0], r[1], DOCUMENT_CLASSES.get(r[1], ""), int(r[2])) for r in found),
    )


def emergencies(ctx: Context, actor: Actor, *, since: date, until: date) -> Table:
    """Emergency accesses ("emergency") and centre 15 regulation accesses ("regulation") declared per month."""
    _checked_period(since, until)
    _statistics_reader(ctx, actor)
    found = repository.emergencies(ctx.session, month_start(since), until)
    return Table(("period", "mode", "accesses"), tuple((r[0], r[1], int(r[2])) for r in found))


def close_ended_months(ctx: Context, actor: Actor) -> list[date]:
    """Freeze the remuneration of every month that has ended and is not frozen yet; the months frozen now."""
    _statistics_reader(ctx, actor)
    return _close_ended_months(ctx)


def _close_ended_months(ctx: Context) -> list[date]:
    now = clock.now()
    current = month_start(paris_day(now))
    last = repository.last_closed_month(ctx.session)
    month = next_month(last) if last is not None else repository.first_counted_month(ctx.session)
    closed: list[date] = []
    while month is not None and month < current:
        if repository.close_month(ctx.session, month, now):
            closed.append(month)
        month = next_month(month)
    return closed


def _merged(
    ctx: Context,
    first: date,
    last: date,
    frozen_rows: Sequence[Sequence[Any]],
    live_rows: Sequence[Sequence[Any]],
    columns: tuple[str, ...],
) -> Table:
    """Ended months as they were frozen, the others counted live: (period, group, openings, amount, closed).

    Each row is (period, group, openings[, frozen amount]); the group is a pharmacy or a count of pharmacies."""
    frozen = repository.closed_months(ctx.session, first, last)
    rows: list[tuple[Cell, ...]] = [
        (r[0], r[1], int(r[2]), Decimal(r[3]).quantize(Decimal("0.01")), True) for r in frozen_rows
    ]
    rows += [
        (r[0], r[1], int(r[2]), int(r[2]) * repository.PRICE_PER_OPENING, False)
        for r in live_rows
        if r[0] not in frozen
    ]
    rows.sort(key=lambda row: (str(row[0]), str(row[1])))
    return Table(columns, tuple(rows))


def _remuneration(ctx: Context, first: date, last: date, finess: str | None) -> Table:
    _close_ended_months(ctx)  # on the first read after a month ended, its amounts freeze
    return _merged(
        ctx,
        first,
        last,
        repository.frozen_remuneration(ctx.session, first, last, finess),
        repository.pharmacy_openings(ctx.session, first, last, finess),
        ("period", "finess", "openings", "amount", "closed"),
    )


def remuneration(ctx: Context, actor: Actor, *, since: date, until: date, finess: str | None = None) -> Table:
    """What each pharmacy is owed per month: 1 EUR per record it opened. An ended month is frozen (`closed`):
    its amount was fixed when it was first read after it ended and no later event changes it."""
    _checked_period(since, until)
    wanted = None if finess is None else parse_finess(finess)
    _statistics_reader(ctx, actor)
    return _remuneration(ctx, month_start(since), until, wanted)


def remuneration_months(ctx: Context, actor: Actor, *, since: date, until: date) -> Table:
    """What all pharmacies together are owed each month, and how many of them: the page's figure, at any
    national size (one row per month). Each pharmacy's line is in `remuneration`, the payment file."""
    _checked_period(since, until)
    _statistics_reader(ctx, actor)
    first = month_start(since)
    _close_ended_months(ctx)
    return _merged(
        ctx,
        first,
        until,
        [(r[0], int(r[1]), r[2], r[3]) for r in repository.frozen_remuneration_totals(ctx.session, first, until)],
        [(r[0], int(r[1]), r[2]) for r in repository.pharmacy_opening_totals(ctx.session, first, until)],
        ("period", "pharmacies", "openings", "amount", "closed"),
    )


def pharmacy_earnings(ctx: Context, actor: Actor, finess: str) -> Table:
    """A pharmacy's own remuneration, every month it opened records: for its pharmacists only."""
    wanted = parse_finess(finess)
    if actor.kind is not ActorKind.PROFESSIONAL or actor.organisation != wanted:
        raise Forbidden("A pharmacy sees only what it has earned itself.", code="not-this-pharmacy")
    return _remuneration(ctx, date.min, date.max, wanted)


def projection(total: int, weekly_rate: int, today: date, target: int = TARGET) -> date | None:
    """The day the target is reached if `weekly_rate` openings a week go on; None at a rate of 0 (or past
    any calendar)."""
    if total >= target:
        return today
    if weekly_rate <= 0:
        return None
    days = math.ceil((target - total) * 7 / weekly_rate)
    return today + timedelta(days=days) if days <= (date.max - today).days else None


def overview(ctx: Context, actor: Actor) -> Overview:
    """Openings so far against the 40 million target, and when it is reached at this week's rate."""
    _statistics_reader(ctx, actor)
    today = paris_day(clock.now())
    session = ctx.session
    total = repository.total_openings(session, "month")
    rate = repository.total_openings(session, "day", today - timedelta(days=6), today)
    this_week = repository.total_openings(session, "week", week_start(today), week_start(today))
    return Overview(
        total_openings=total,
        active_records=repository.records_in_state(session, "open"),
        target=TARGET,
        last_7_days=rate,
        projected_on=projection(total, rate, today),
        this_week=this_week,
        today=today,
        closed_records=repository.records_in_state(session, "closed"),
        destroyed_records=repository.records_in_state(session, "destroyed"),
    )
