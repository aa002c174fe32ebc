"""The counters against the rows they count: under concurrent transactions, and rebuilt by the migration.

These tests commit, so each has a database of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text

from carnet.access.actor import Actor, Mode
from carnet.access.service import declare_emergency
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import StaticKeyProvider, generate_master_key_text, parse_master_keys
from carnet.kit.db import alembic_config, make_engine, make_sessionmaker
from carnet.records.codes import Channel
from carnet.records.documents import deposit_document
from carnet.records.schemas import PatientIdentity
from carnet.records.service import close_record, destroy_record, open_record, reopen_record, request_destruction
from carnet.runtime import unit_of_work
from tests.factories import PDF, SYSTEM, document_meta, finess, new_ins, rpps

BEFORE_STATS = "20261205_running_episodes"

# Each counter table as (key..., n), slots summed away: what a statistic can see of it.
COUNTERS = {
    "openings": "SELECT grain, start, channel, departement, region, n FROM stats_openings",
    "pharmacies": "SELECT month, finess, n FROM stats_pharmacy_openings",
    "states": "SELECT state, sum(n) FROM stats_record_states GROUP BY state HAVING sum(n) <> 0",
    "documents": "SELECT month, class_code, sum(n) FROM stats_documents GROUP BY 1, 2",
    "emergencies": "SELECT month, mode, n FROM stats_emergencies",
}


class World:
    def __init__(self, engine: Engine, keys: StaticKeyProvider) -> None:
        self.engine, self.keys = engine, keys
        self.sessions = make_sessionmaker(engine)

    def work(self) -> Any:
        return unit_of_work(self.sessions, self.keys, max_document_bytes=1_000_000)

    def counters(self) -> dict[str, set[tuple[Any, ...]]]:
        with self.engine.connect() as connection:
            return {name: {tuple(row) for row in connection.execute(text(sql))} for name, sql in COUNTERS.items()}

    def scalar(self, sql: str) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(text(sql)).scalar_one())


@pytest.fixture
def world(fresh_database: Callable[[], str]) -> Iterator[tuple[str, World]]:
    url = fresh_database()
    engine = make_engine(url)
    yield url, World(engine, parse_master_keys(generate_master_key_text(), source="test"))
    engine.dispose()


def identity(postcode: str) -> PatientIdentity:
    return PatientIdentity(
        family_name="Bernard", given_names="Noé", birth_date=date(1977, 2, 2), sex="M", postcode=postcode
    )


def open_one(ctx: Context, channel: Channel, opener: str, postcode: str) -> uuid.UUID:
    return open_record(ctx, SYSTEM, ins=new_ins(), identity=identity(postcode), channel=channel, opened_by=opener)


def test_concurrent_openings_and_deposits_lose_no_count(
    world: tuple[str, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads open records in the same département, channel and day (the same counter rows) and deposit
    documents of one class in the same month, all at once: every count is there, none twice."""
    _, w = world
    monkeypatch.setattr(clock, "now", lambda: datetime(2029, 11, 21, 10, 0, tzinfo=UTC))
    with w.work() as ctx:
        target = open_one(ctx, Channel.ONLINE, "patient", "69001")
    threads, rounds = 8, 6
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            start.wait()
            for _ in range(rounds):
                with w.work() as ctx:
                    open_one(ctx, Channel.PHARMACY, finess(800 + index % 2), "13001")
                with w.work() as ctx:
                    deposit_document(ctx, SYSTEM, target, document_meta(class_code="11"), PDF)
        except BaseException as exc:  # reported below
            failures.append(exc)

    pool = [threading.Thread(target=work, args=(i,), name=f"counting-{i}") for i in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert failures == []
    opened = threads * rounds
    assert w.scalar("SELECT count(*) FROM records WHERE channel = 'pharmacy'") == opened
    assert w.scalar("SELECT count(*) FROM documents") == opened
    counters = w.counters()
    day, week, month = date(2029, 11, 21), date(2029, 11, 19), date(2029, 11, 1)
    assert {row for row in counters["openings"] if row[2] == "pharmacy"} == {
        ("day", day, "pharmacy", "13", "93", opened),
        ("week", week, "pharmacy", "13", "93", opened),
        ("month", month, "pharmacy", "13", "93", opened),
    }
    assert counters["pharmacies"] == {(month, finess(800), opened // 2), (month, finess(801), opened // 2)}
    assert counters["documents"] == {(month, "11", opened)}
    assert counters["states"] == {("open", opened + 1)}


def test_the_migration_counts_what_live_counting_counted(
    world: tuple[str, World], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database from before the counters, migrated, has the figures the services would have counted."""
    url, w = world
    instants = iter(
        datetime.fromisoformat(t).replace(tzinfo=UTC)
        for t in (
            "2029-12-31 22:59",  # 23:59 Paris, 31 December: December, the week of Monday 31st
            "2029-12-31 23:01",  # 00:01 Paris, 1 January: January
            "2030-03-30 23:30",  # 00:30 Paris on Sunday 31 March (winter time until 02:00)
            "2030-03-31 22:30",  # 00:30 Paris on Monday 1 April (summer time: UTC+2)
            "2030-04-14 12:00",
            "2030-04-15 12:00",
        )
    )
    now = [next(instants)]
    monkeypatch.setattr(clock, "now", lambda: now[0])
    places = [
        (Channel.PHARMACY, finess(901), "20000"),
        (Channel.ONLINE, "patient", "20600"),
        (Channel.INSURANCE_DESK, "AGENT7", "97300"),
        (Channel.PROFESSIONAL, rpps(901), "97600"),
        (Channel.HOSPITAL, finess(902), "59000"),
        (Channel.PHARMACY, finess(901), "97200"),
    ]
    opened: list[uuid.UUID] = []
    for index, (channel, opener, postcode) in enumerate(places):
        with w.work() as ctx:
            patient_id = open_one(ctx, channel, opener, postcode)
            opened.append(patient_id)
            deposit_document(ctx, SYSTEM, patient_id, document_meta(class_code=("10", "11", "42")[index % 3]), PDF)
            if index % 2:
                nurse = Actor.professional(rpps(910 + index), "60", mode=Mode.EMERGENCY)
                declare_emergency(ctx, nurse, patient_id, "Patient inconscient aux urgences")
            if index == 3:
                regulator = Actor.professional(rpps(920), "10", mode=Mode.REGULATION)
                declare_emergency(ctx, regulator, patient_id, "Appel au centre 15, douleur thoracique")
        now[0] = next(instants, now[0])
    patient = Actor.patient
    with w.work() as ctx:
        close_record(ctx, patient(opened[1]), opened[1])
        close_record(ctx, patient(opened[2]), opened[2])
        reopen_record(ctx, patient(opened[2]), opened[2])
        request_destruction(ctx, patient(opened[3]), opened[3])
    with w.work() as ctx:
        destroy_record(ctx, SYSTEM, opened[3])
    live = w.counters()
    assert live["states"] == {("open", 4), ("closed", 1), ("destroyed", 1)}
    assert len(live["emergencies"]) >= 2 and live["documents"] and live["pharmacies"]
    config = alembic_config(url)
    command.downgrade(config, BEFORE_STATS)
    command.upgrade(config, "head")
    assert w.counters() == live
