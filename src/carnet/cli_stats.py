"""`carnet stats`: the statistics as a table on the terminal or as CSV on standard output.

The command runs on a server, by whoever holds the database's credentials and the master key (as
`carnet audit verify` and `carnet matrix show` do): it reads as a system job, `Actor.system("stats")`, which
the statistics service lets read every statistic. Operators elsewhere read them in the operator space, where
the `statistics` role is checked. Bad input (an unknown --by or --period, a period that ends before it
starts, a date that is not YYYY-MM-DD) ends in one readable line and a non-zero exit code.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, cast

import typer
from rich.table import Table as RichTable

from carnet.access.actor import Actor
from carnet.cli_support import build_runtime, friendly_errors, out
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import Invalid
from carnet.settings import load_settings
from carnet.stats import service
from carnet.stats.calendar import month_start, paris_day

stats_app = typer.Typer(no_args_is_help=True, help="Statistics: openings, documents, remuneration, emergencies.")

STATS_JOB = Actor.system("stats")
NUMBERS = frozenset({"openings", "documents", "accesses", "amount"})

SinceOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="First day (YYYY-MM-DD, Paris time, included).")
]
UntilOption = Annotated[
    datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day (YYYY-MM-DD, included; default today).")
]
FormatOption = Annotated[str, typer.Option("--format", help="table (on the terminal) or csv (standard output).")]


def _days(since: datetime | None, until: datetime | None, default_span: timedelta) -> tuple[date, date]:
    last = until.date() if until is not None else paris_day(clock.now())
    first = since.date() if since is not None else month_start(last - default_span)
    return first, last


def _show(table: service.Table, output: str, title: str) -> None:
    if output not in ("table", "csv"):
        raise Invalid(f"Format: choose table or csv; not '{output}'.", code="invalid-format")
    if output == "csv":
        sys.stdout.write(table.to_csv())
        return
    shown = RichTable(title=title)
    for column in table.columns:
        shown.add_column(column, justify="right" if column in NUMBERS else "left")
    for row in table.rows:
        shown.add_row(*(service.cell_text(cell) for cell in row))
    out.print(shown)
    if not table.rows:
        out.print("Nothing was counted in this period.")


def _read(reader: Callable[[Context], service.Table]) -> service.Table:
    runtime = build_runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        return reader(ctx)


@stats_app.command("openings")
@friendly_errors
def openings(
    by: Annotated[str | None, typer.Option("--by", help="channel, region or departement.")] = None,
    period: Annotated[str, typer.Option("--period", help="day, week or month.")] = "week",
    since: SinceOption = None,
    until: UntilOption = None,
    output: FormatOption = "table",
) -> None:
    """Records opened per day, week or month (Paris time), by channel, region or departement."""
    span = {"day": timedelta(days=30), "week": timedelta(weeks=12)}.get(period, timedelta(days=335))
    first, last = _days(since, until, span)
    if period == "day" and since is None:
        first = last - timedelta(days=30)
    table = _read(
        lambda ctx: service.openings(
            ctx,
            STATS_JOB,
            period=cast(service.Period, period),
            by=cast(service.By | None, by),
            since=first,
            until=last,
        )
    )
    _show(table, output, f"Openings per {period}" + (f" by {by}" if by else ""))


@stats_app.command("documents")
@friendly_errors
def documents(since: SinceOption = None, until: UntilOption = None, output: FormatOption = "table") -> None:
    """Documents deposited per month and class."""
    first, last = _days(since, until, timedelta(days=335))
    _show(_read(lambda ctx: service.documents(ctx, STATS_JOB, since=first, until=last)), output, "Documents")


@stats_app.command("emergencies")
@friendly_errors
def emergencies(since: SinceOption = None, until: UntilOption = None, output: FormatOption = "table") -> None:
    """Emergency and regulation (centre 15) accesses declared per month."""
    first, last = _days(since, until, timedelta(days=335))
    table = _read(lambda ctx: service.emergencies(ctx, STATS_JOB, since=first, until=last))
    _show(table, output, "Emergency accesses")


@stats_app.command("remuneration")
@friendly_errors
def remuneration(
    since: SinceOption = None,
    until: UntilOption = None,
    finess: Annotated[str | None, typer.Option("--finess", help="Only this pharmacy (its FINESS).")] = None,
    output: FormatOption = "table",
) -> None:
    """What each pharmacy is owed per month (1 EUR per opening); an ended month is frozen once read."""
    first, last = _days(since, until, timedelta(days=335))
    table = _read(lambda ctx: service.remuneration(ctx, STATS_JOB, since=first, until=last, finess=finess))
    _show(table, output, "Pharmacy remuneration")


@stats_app.command("close-month")
@friendly_errors
def close_month() -> None:
    """Freeze the remuneration of every ended month not frozen yet (a read does it too; run it monthly)."""
    runtime = build_runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        closed = service.close_ended_months(ctx, STATS_JOB)
    if closed:
        out.print("Frozen: " + ", ".join(month.strftime("%Y-%m") for month in closed) + ".")
    else:
        out.print("Every ended month was frozen already.")


@stats_app.command("overview")
@friendly_errors
def overview() -> None:
    """Openings so far against the 40 million target, the weekly rate and when the target is reached."""
    runtime = build_runtime(load_settings())
    with runtime.unit_of_work() as ctx:
        seen = service.overview(ctx, STATS_JOB)
    reached = seen.projected_on.isoformat() if seen.projected_on else "not at this rate (no opening in 7 days)"
    out.print(f"Openings: {seen.total_openings:,} of {seen.target:,}; active records: {seen.active_records:,}.")
    out.print(f"Last 7 days: {seen.last_7_days:,}; this week: {seen.this_week:,}; target reached: {reached}.")
