"""The statistics pages, for operators with the statistics role: the campaign against its 40 million target,
openings per period (by channel, region or département), documents per class, emergency accesses, and what
each pharmacy is owed. Each figure is a chart drawn on the server, its data table beneath, and a CSV download.

The figures come from carnet.stats.service, which checks the role itself; a page only reads its form (a
period and a grouping, in the address: nothing there names a patient) and shows the tables it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, get_args

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import CarnetError
from carnet.portal.charts import Bar, Point, bar_chart, progress_chart
from carnet.portal.labels import CLASSES
from carnet.portal.messages import N_
from carnet.portal.operator import Operator, operator_page, operator_unit
from carnet.portal.patient import FieldErrors
from carnet.portal.web import LOCALES, Language, gettext, known_message, language
from carnet.stats import service
from carnet.stats.calendar import month_start, next_month, week_start
from carnet.stats.service import By, Cell, Period, Table

router = APIRouter(include_in_schema=False)
ROLE = "statistics"
PERIODS = {"day": N_("Day"), "week": N_("Week"), "month": N_("Month")}
GROUPS = {"": N_("All together"), "channel": N_("Channel"), "region": N_("Region"), "departement": N_("Département")}
CHANNELS = {
    "online": N_("Online, by the patient"),
    "pharmacy": N_("At a pharmacy"),
    "insurance_desk": N_("At an insurance desk"),
    "professional": N_("By a professional"),
    "hospital": N_("At a hospital"),
}
MODES = {"emergency": N_("Emergency access"), "regulation": N_("Centre 15 regulation")}
# The stats service's refusals of a period, for the catalogue (its sentences that carry a value go by code).
SERVICE_MESSAGES = (N_("The period ends before it starts."),)
FIELD_OF = {"invalid-period": "until", "period-too-long": "since", "invalid-by": "by", "invalid-finess": "since"}


@dataclass(frozen=True, slots=True)
class Asked:
    period: str
    by: str
    since: date
    until: date


@dataclass(frozen=True, slots=True)
class Figure:
    """One statistics page: its title, what its chart says, which form fields it takes, how to read its table."""

    slug: str
    title: str
    lead: str
    fields: tuple[str, ...]
    read: Callable[[Context, Operator, Asked], Table]
    # What its CSV holds, when not the page's table (the remuneration: each pharmacy's line, for payment).
    csv: Callable[[Context, Operator, Asked], Table] | None = None


def _openings(ctx: Context, operator: Operator, asked: Asked) -> Table:
    period = next(p for p in get_args(Period) if p == asked.period)
    by: By | None = next((b for b in get_args(By) if b == asked.by), None)
    return service.openings(ctx, operator.actor, period=period, by=by, since=asked.since, until=asked.until)


FIGURES = {
    f.slug: f
    for f in (
        Figure(
            "openings",
            N_("Records opened"),
            N_("How many records were opened in each period, and by which channel or where the patients live."),
            ("period", "by", "since", "until"),
            _openings,
        ),
        Figure(
            "documents",
            N_("Documents deposited"),
            N_("Documents deposited each month, by kind of document (a new version counts as a deposit)."),
            ("since", "until"),
            lambda ctx, op, a: service.documents(ctx, op.actor, since=a.since, until=a.until),
        ),
        Figure(
            "emergencies",
            N_("Emergency accesses"),
            N_("Emergency accesses and centre 15 regulation accesses declared each month."),
            ("since", "until"),
            lambda ctx, op, a: service.emergencies(ctx, op.actor, since=a.since, until=a.until),
        ),
        Figure(
            "remuneration",
            N_("Pharmacy remuneration"),
            N_("What pharmacies are owed per month, 1 euro per record opened; an ended month never changes."),
            ("since", "until"),
            lambda ctx, op, a: service.remuneration_months(ctx, op.actor, since=a.since, until=a.until),
            lambda ctx, op, a: service.remuneration(ctx, op.actor, since=a.since, until=a.until),
        ),
    )
}


def _defaults(slug: str) -> dict[str, str]:
    """The last twelve weeks of openings; six months of the other figures."""
    today = clock.today()
    if slug == "openings":
        since = week_start(today) - timedelta(weeks=11)
    else:
        since = month_start(month_start(today) - timedelta(days=150))
    return {"period": "week", "by": "", "since": since.isoformat(), "until": today.isoformat()}


def _asked(request: Request, values: Mapping[str, str], errors: FieldErrors) -> Asked | None:
    _ = gettext(request).gettext
    if values["period"] not in PERIODS:
        errors.add("period", _("Choose days, weeks or months."))
    if values["by"] not in GROUPS:
        errors.add("by", _("Choose how to count the openings."))
    days = {}
    for name, missing in (
        ("since", _("Enter the first day of the period.")),
        ("until", _("Enter the last day of the period.")),
    ):
        text = values[name].strip()
        try:
            days[name] = date.fromisoformat(text)
        except ValueError:
            errors.add(name, missing if not text else _("Enter a date as day, month and year."))
    if errors or len(days) < 2:
        return None
    return Asked(values["period"], values["by"], days["since"], days["until"])


def _values(raw: Mapping[str, str | None], slug: str) -> dict[str, str]:
    return {**_defaults(slug), **{k: v for k, v in raw.items() if v is not None}}


Field = Annotated[str | None, Query(max_length=12)]
# Rows of a figure's table written on its page: a five-year table by département has 6,000 (the CSV has all).
TABLE_ROWS = 500


@router.get("/operator/statistics")
def overview_page(request: Request) -> Response:
    lang = language(request)
    _ = gettext(request).gettext
    with operator_unit(request, ROLE) as (ctx, operator):
        figures = service.overview(ctx, operator.actor)
        first = month_start(figures.today).replace(year=figures.today.year - 2)
        months = service.openings(ctx, operator.actor, period="month", by=None, since=first, until=figures.today)
    counted = [(row[0], _count(row[1])) for row in months.rows if isinstance(row[0], date)]
    reached = figures.total_openings - sum(n for _start, n in counted)
    done = []
    for start, n in counted:
        reached += n
        done.append(Point(min(next_month(start), figures.today), reached))
    projected = [Point(figures.today, figures.total_openings)]
    if figures.projected_on is not None:
        projected.append(Point(figures.projected_on, figures.target))
    share = figures.total_openings / figures.target * 100
    words = {
        "total": _number(figures.total_openings, lang),
        "target": _number(figures.target, lang),
        "share": format_decimal(round(share, 2), format="#,##0.##", locale=LOCALES[lang]),
    }
    description = _("%(total)s records opened of the %(target)s aimed at (%(share)s %%).") % words
    if figures.projected_on is not None:
        description += " " + _("At the rate of the last 7 days the target is reached on %(day)s.") % {
            "day": format_date(figures.projected_on, format="long", locale=LOCALES[lang])
        }
    chart = progress_chart(
        "campaign",
        _("Records opened against the target"),
        description,
        done,
        projected if figures.projected_on is not None else [],
        figures.target,
        (
            _("Target: %(target)s") % words,
            format_date(done[0].day if done else figures.today, format="MMM y", locale=LOCALES[lang]),
            format_date(projected[-1].day, format="MMM y", locale=LOCALES[lang]),
        ),
    )
    context = {"figures": figures, "chart": chart, "words": words, "done": done, "number": lambda n: _number(n, lang)}
    return operator_page(request, "operator/statistics.html", operator, context)


def _count(cell: Cell) -> int:
    return int(cell) if isinstance(cell, (int, Decimal, str)) and not isinstance(cell, bool) else 0


def _number(value: int | float | Decimal, lang: Language) -> str:
    return format_decimal(value, locale=LOCALES[lang])


def _figure_page(request: Request, slug: str, raw: Mapping[str, str | None], page: int = 1) -> Response:
    figure = FIGURES[slug]
    errors = FieldErrors()
    values = _values(raw, slug)
    asked = _asked(request, values, errors)
    table = None
    with operator_unit(request, ROLE) as (ctx, operator):
        if asked is not None:
            try:
                table = figure.read(ctx, operator, asked)
            except CarnetError as exc:
                if exc.code not in FIELD_OF:
                    raise
                errors.add(FIELD_OF[exc.code], _period_message(request, exc))
    context: dict[str, object] = {
        "figure": figure,
        "chart": None,
        "rows": [],
        "headers": [],
        "csv": None,
        "table_pages": None,
    }
    if table is None or asked is None:
        return operator_page(
            request,
            "operator/figure.html",
            operator,
            {**context, **_choices()},
            errors=errors,
            values=values,
            status=422,
        )
    count = len(table.rows)
    last_page = max(1, -(-count // TABLE_ROWS))
    number = min(max(1, page), last_page)
    shown = range((number - 1) * TABLE_ROWS, min(number * TABLE_ROWS, count))
    headers, rows, bars = _shown(request, slug, asked, table, shown)
    _ = gettext(request).gettext
    query = "&".join(f"{name}={values[name]}" for name in figure.fields)
    here = f"/operator/statistics/{slug}?{query}"
    context.update(
        chart=bar_chart(f"chart-{slug}", _(figure.title), _describe(request, slug, asked), bars),
        rows=rows,
        headers=headers,
        csv=f"/operator/statistics/{slug}.csv?{query}",
        table_pages=None
        if last_page == 1
        else {
            "first": _number(shown.start + 1, language(request)),
            "last": _number(shown.stop, language(request)),
            "count": _number(count, language(request)),
            "previous": f"{here}&page={number - 1}" if number > 1 else None,
            "next": f"{here}&page={number + 1}" if number < last_page else None,
        },
    )
    return operator_page(request, "operator/figure.html", operator, {**context, **_choices()}, values=values)


def _choices() -> dict[str, object]:
    return {"periods": PERIODS, "groups": GROUPS}


def _period_message(request: Request, exc: CarnetError) -> str:
    _ = gettext(request).gettext
    if exc.code == "period-too-long":
        return _("Daily counts cover at most a year: choose weeks or months for a longer period.")
    return known_message(request, exc)


def _period_label(lang: Language, _: Callable[[str], str], period: str, start: date) -> str:
    if period == "day":
        return format_date(start, format="long", locale=LOCALES[lang])
    if period == "week":
        return _("Week of %(day)s") % {"day": format_date(start, format="long", locale=LOCALES[lang])}
    return format_date(start, format="LLLL y", locale=LOCALES[lang])


def _group_label(_: Callable[[str], str], slug: str, asked: Asked, row: tuple[object, ...]) -> str:
    if slug == "openings":
        if asked.by == "channel":
            return _(CHANNELS.get(str(row[1]), str(row[1])))
        if asked.by == "region":
            return f"{row[2] or row[1]}"
        if asked.by == "departement":
            return f"{row[2] or ''} ({row[1]})".strip()
        return ""
    if slug == "documents":
        return _(CLASSES.get(str(row[1]), str(row[1])))
    return _(MODES.get(str(row[1]), str(row[1])))


def _shown(
    request: Request, slug: str, asked: Asked, table: Table, shown: range
) -> tuple[list[str], list[list[str]], list[Bar]]:
    """The table's headers and the rows of `shown` in the reader's words, and the chart's bars (totals per group,
    or per period, over every row).

    A table has thousands of rows at national size (months by départements): the page writes one slice of them
    (TABLE_ROWS; the CSV has them all), and each period's, group's and number's words are made once."""
    _ = gettext(request).gettext
    lang = language(request)
    period = asked.period if slug == "openings" else "month"
    grouped = slug in ("documents", "emergencies") or (slug == "openings" and asked.by != "")
    group_header = {
        "openings": _(GROUPS.get(asked.by, "")),
        "documents": _("Kind of document"),
        "emergencies": _("Mode"),
    }
    value_header = {
        "openings": _("Records opened"),
        "documents": _("Documents"),
        "emergencies": _("Accesses"),
        "remuneration": _("Records opened"),
    }[slug]
    headers = [_(PERIODS[period])] + ([group_header[slug]] if grouped else [])
    headers += (
        [_("Pharmacies paid"), value_header, _("Amount"), _("Month closed")]
        if slug == "remuneration"
        else [value_header]
    )
    periods: dict[object, str] = {}
    groups: dict[tuple[object, ...], str] = {}
    numbers: dict[int, str] = {}

    def number(n: int) -> str:
        if n not in numbers:
            numbers[n] = _number(n, lang)
        return numbers[n]

    rows: list[list[str]] = []
    totals: dict[str, float] = {}
    for index, row in enumerate(table.rows):
        start = row[0] if isinstance(row[0], date) else asked.since
        if start not in periods:
            periods[start] = _period_label(lang, _, period, start)
        label = periods[start]
        if slug == "remuneration":
            amount = row[3] if isinstance(row[3], Decimal) else Decimal(str(row[3]))
            money = format_currency(amount, "EUR", locale=LOCALES[lang])
            if index in shown:
                closed = _("Yes") if row[4] else _("No")
                rows.append([label, number(_count(row[1])), number(_count(row[2])), money, closed])
            totals[label] = float(amount)
            continue
        count = _count(row[-1])
        group = ""
        if grouped:
            key = tuple(row[1:-1])
            if key not in groups:
                groups[key] = _group_label(_, slug, asked, row)
            group = groups[key]
        if index in shown:
            rows.append([label] + ([group] if grouped else []) + [number(count)])
        at = group if grouped else label
        totals[at] = totals.get(at, 0) + count
    if slug == "remuneration":
        bars = [Bar(k, v, format_currency(v, "EUR", locale=LOCALES[lang])) for k, v in totals.items()]
    else:
        bars = [Bar(k, v, _number(int(v), lang)) for k, v in totals.items()]
    if grouped:
        bars.sort(key=lambda bar: -bar.value)
    return headers, rows, bars


def _describe(request: Request, slug: str, asked: Asked) -> str:
    _ = gettext(request).gettext
    lang = language(request)
    words = {
        "since": format_date(asked.since, format="long", locale=LOCALES[lang]),
        "until": format_date(asked.until, format="long", locale=LOCALES[lang]),
    }
    if slug == "openings" and asked.by:
        return _("Totals per group from %(since)s to %(until)s; the table below gives each period.") % words
    if slug == "openings":
        return _("One bar per period from %(since)s to %(until)s; the table below gives the same figures.") % words
    if slug == "remuneration":
        return (
            _(
                "One bar per month from %(since)s to %(until)s; the table below gives the same figures, "
                "the CSV each pharmacy's line."
            )
            % words
        )
    return _("Totals per group from %(since)s to %(until)s; the table below gives each month.") % words


def _csv(request: Request, slug: str, raw: Mapping[str, str | None]) -> Response:
    figure = FIGURES[slug]
    errors = FieldErrors()
    asked = _asked(request, _values(raw, slug), errors)
    if asked is None:
        return _figure_page(request, slug, raw)
    try:
        with operator_unit(request, ROLE) as (ctx, operator):
            table = (figure.csv or figure.read)(ctx, operator, asked)
    except CarnetError as exc:
        if exc.code not in FIELD_OF:
            raise
        return _figure_page(request, slug, raw)
    name = f"{slug}-{asked.since.isoformat()}-{asked.until.isoformat()}.csv"
    return Response(
        table.to_csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/operator/statistics/openings")
def openings_page(
    request: Request,
    period: Field = None,
    by: Field = None,
    since: Field = None,
    until: Field = None,
    page: Field = None,
) -> Response:
    raw = {"period": period, "by": by, "since": since, "until": until}
    return _figure_page(request, "openings", raw, _page_number(page))


@router.get("/operator/statistics/openings.csv")
def openings_csv(
    request: Request, period: Field = None, by: Field = None, since: Field = None, until: Field = None
) -> Response:
    return _csv(request, "openings", {"period": period, "by": by, "since": since, "until": until})


def _page_number(text: str | None) -> int:
    """The table's page asked for: a number from 1; anything else is the first page."""
    return int(text) if text and text.isdigit() and 0 < int(text) < 100_000 else 1


def _register(slug: str) -> None:
    def figure_page(request: Request, since: Field = None, until: Field = None, page: Field = None) -> Response:
        return _figure_page(request, slug, {"since": since, "until": until}, _page_number(page))

    def figure_csv(request: Request, since: Field = None, until: Field = None) -> Response:
        return _csv(request, slug, {"since": since, "until": until})

    router.add_api_route(f"/operator/statistics/{slug}", figure_page, methods=["GET"])
    router.add_api_route(f"/operator/statistics/{slug}.csv", figure_csv, methods=["GET"])


for _slug in ("documents", "emergencies", "remuneration"):
    _register(_slug)
