"""Search parameters, parsed by pure functions: paging, dates with prefixes, tokens, references."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from starlette.datastructures import QueryParams

from carnet.kit.errors import BadRequest

T = TypeVar("T")
PARIS = ZoneInfo("Europe/Paris")  # a date or time given without a zone is French local time
DEFAULT_COUNT = 20
MAX_COUNT = 100
MAX_OFFSET = 100_000
# Parameters every search accepts.
COMMON = frozenset({"_count", "_offset", "_format"})
_DATE = re.compile(
    r"^(?P<prefix>eq|gt|lt|ge|le)?(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})(\.\d{1,9})?)?(?P<zone>Z|[+-]\d{2}:\d{2})?)?)?)?$",
    re.ASCII,  # \d is 0-9 only, not every Unicode digit
)


@dataclass(frozen=True, slots=True)
class Page:
    count: int
    offset: int


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open period [start, before); either end may be open."""

    start: datetime | None = None
    before: datetime | None = None


def check_known(params: QueryParams, allowed: Collection[str]) -> None:
    """Unknown parameters are refused rather than ignored, so a search never looks filtered when it is not."""
    for name in params:
        if name not in allowed and name not in COMMON:
            known = ", ".join(sorted(allowed))
            raise BadRequest(
                f"Unknown search parameter '{name[:40]}'; this search takes: {known}.", code="unknown-parameter"
            )
    fmt = params.get("_format")
    if fmt is not None and fmt not in ("json", "application/json", "application/fhir+json"):
        raise BadRequest("Only JSON is served (_format=json).", code="unsupported-format")


def page(params: QueryParams) -> Page:
    return Page(
        count=_integer(params, "_count", DEFAULT_COUNT, 1, MAX_COUNT),
        offset=_integer(params, "_offset", 0, 0, MAX_OFFSET),
    )


def slice_of(items: list[T], paging: Page) -> tuple[list[T], int | None]:
    """One page of a list held in memory (a profile, reimbursement lines), and where the next one starts."""
    end = paging.offset + paging.count
    return items[paging.offset : end], end if len(items) > end else None


def _integer(params: QueryParams, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    # ASCII digits only: str.isdigit() also accepts '²' (which int() refuses) and other scripts' digits.
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))) or not low <= int(text) <= high:
        raise BadRequest(f"{name} is a whole number from {low} to {high}.", code="invalid-parameter")
    return int(text)


def period(values: list[str], name: str) -> Period:
    """The period all the date parameters given describe together (each narrows it)."""
    start: datetime | None = None
    before: datetime | None = None
    for value in values:
        low, high = _date_bounds(value, name)
        if low is not None and (start is None or low > start):
            start = low
        if high is not None and (before is None or high < before):
            before = high
    return Period(start, before)


def _date_bounds(value: str, name: str) -> tuple[datetime | None, datetime | None]:
    match = _DATE.match(value.strip())
    if match is None:
        raise BadRequest(
            f"{name}: '{value[:40]}' is not a date; write e.g. ge2026-01-31 or lt2026-02-01T08:00:00+01:00 "
            "(prefixes eq, gt, lt, ge, le).",
            code="invalid-date",
        )
    first, after = _span(match, name)
    prefix = match.group("prefix") or "eq"
    return {
        "eq": (first, after),
        "ge": (first, None),
        "gt": (after, None),
        "lt": (None, first),
        "le": (None, after),
    }[prefix]


def _span(match: re.Match[str], name: str) -> tuple[datetime, datetime]:
    """The first instant the value names, and the first instant after it, at the value's precision."""
    g = match.groupdict()
    zone: tzinfo = PARIS
    if g["zone"] == "Z":
        zone = UTC
    elif g["zone"]:
        hours, minutes = int(g["zone"][1:3]), int(g["zone"][4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            raise BadRequest(
                f"{name}: '{match.string[:40]}' has an offset beyond ±14:00; write e.g. +01:00.", code="invalid-date"
            )
        zone = timezone((1 if g["zone"][0] == "+" else -1) * timedelta(hours=hours, minutes=minutes))
    try:
        first, after = _local_bounds(g, zone)
        return first.astimezone(UTC), after.astimezone(UTC)
    except (ValueError, OverflowError):
        # February 30th, or bounds past the calendar's edges (years 1 to 9999) once the offset is applied
        raise BadRequest(
            f"{name}: '{match.string[:40]}' is not a real date within the years 1 to 9999 (in UTC); "
            "give a real day such as 2026-01-31.",
            code="invalid-date",
        ) from None


def _local_bounds(g: dict[str, Any], zone: tzinfo) -> tuple[datetime, datetime]:
    year = int(g["year"])
    if g["month"] is None:
        return datetime(year, 1, 1, tzinfo=zone), datetime(year + 1, 1, 1, tzinfo=zone)
    month = int(g["month"])
    if g["day"] is None:
        first = datetime(year, month, 1, tzinfo=zone)
        return first, (first + timedelta(days=32)).replace(day=1)
    day = date(year, month, int(g["day"]))
    if g["hour"] is None:
        first = datetime(day.year, day.month, day.day, tzinfo=zone)
        return first, first + timedelta(days=1)
    second = int(g["second"]) if g["second"] else 0
    first = datetime(day.year, day.month, day.day, int(g["hour"]), int(g["minute"]), second, tzinfo=zone)
    return first, first + (timedelta(seconds=1) if g["second"] else timedelta(minutes=1))


def token(value: str) -> tuple[str | None, str]:
    """`system|code` or `code`; (None, code) when no system is given."""
    system, bar, code = value.partition("|")
    if not bar:
        return None, value
    return system or None, code


def reference(value: str, resource_type: str, name: str) -> uuid.UUID:
    """`Patient/<id>`, a full URL ending so, or a bare id: the patient's id."""
    text = value.rstrip("/")
    marker = f"{resource_type}/"
    if marker in text:
        text = text[text.rindex(marker) + len(marker) :]
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BadRequest(
            f"{name}: '{value[:60]}' is not a reference to a {resource_type}.", code="invalid-reference"
        ) from None


def one(params: QueryParams, name: str) -> str | None:
    values = params.getlist(name)
    if len(values) > 1:
        raise BadRequest(f"Give {name} once.", code="repeated-parameter")
    return values[0] if values else None
