"""`carnet seed`'s population reads like a campaign in the statistics: openings over weeks, every channel."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.runtime import unit_of_work
from carnet.stats import service as stats
from carnet.stats.calendar import paris_day
from carnet.synthetic import seed_population


def total(table: stats.Table, column: str) -> int:
    return sum(int(str(row[table.columns.index(column)])) for row in table.rows)


def test_the_seed_spreads_its_openings_over_the_last_weeks(fresh_database: Callable[[], str]) -> None:
    engine = make_engine(fresh_database())
    keys = parse_master_keys(generate_master_key_text(), source="test")
    sessions = make_sessionmaker(engine)

    def work() -> AbstractContextManager[Context]:
        return unit_of_work(sessions, keys, max_document_bytes=1_000_000)

    try:
        seed_population(work, patients=80, documents_per_patient=1, batch_size=40)
        today = paris_day(clock.now())
        job = Actor.system("test")
        with work() as ctx:
            weeks = stats.openings(ctx, job, period="week", by=None, since=today - timedelta(days=91), until=today)
            channels = stats.openings(
                ctx, job, period="month", by="channel", since=today - timedelta(days=91), until=today
            )
            documents = stats.documents(ctx, job, since=today - timedelta(days=91), until=today)
            overview = stats.overview(ctx, job)
    finally:
        engine.dispose()
    assert total(weeks, "openings") == 80
    assert sum(1 for row in weeks.rows if row[1]) >= 8  # most of the thirteen weeks have openings
    assert {row[1] for row in channels.rows} >= {"pharmacy", "online", "insurance_desk"}
    assert total(documents, "documents") == 80
    assert overview.total_openings == overview.active_records == 80
