"""The one place that reads the time, so tests and jobs agree on what "now" is."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

_pinned: ContextVar[datetime | None] = ContextVar("carnet_clock_pinned", default=None)


def now() -> datetime:
    pinned = _pinned.get()
    return pinned if pinned is not None else datetime.now(UTC)


def today() -> date:
    return now().date()


@contextmanager
def pinned_at(instant: datetime) -> Iterator[None]:
    """Inside the block, in this thread or task only, now is `instant`: the synthetic population replays
    its openings at the instants it draws, so the statistics look like a campaign under way."""
    token = _pinned.set(instant)
    try:
        yield
    finally:
        _pinned.reset(token)
