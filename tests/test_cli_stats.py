"""`carnet stats` as an operator runs it: a real process on a database whose records were opened through the
services at chosen instants, figures checked by hand, and readable refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from carnet.kit import clock
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.records.codes import Channel
from carnet.records.schemas import PatientIdentity
from carnet.records.service import open_record
from carnet.runtime import unit_of_work
from tests.factories import SYSTEM, finess, new_ins
from tests.test_cli import run

PHARMACY = finess(611)


@pytest.fixture
def env(fresh_database: Callable[[], str], base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Three records of November 2025, months that have ended by the time the command runs."""
    url, key = fresh_database(), generate_master_key_text()
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    openings = [
        ("2025-11-03 09:00", Channel.PHARMACY, PHARMACY, "20090"),  # Monday 3 Nov, 2A
        ("2025-11-09 22:30", Channel.ONLINE, "patient", "97110"),  # Sunday 9 Nov 23:30 Paris, 971
        ("2025-11-30 23:30", Channel.PHARMACY, PHARMACY, "75015"),  # Monday 1 Dec 00:30 Paris, 75
    ]
    try:
        for instant, channel, opener, postcode in openings:
            moment = datetime.fromisoformat(instant).replace(tzinfo=UTC)
            monkeypatch.setattr(clock, "now", lambda moment=moment: moment)
            person = PatientIdentity(
                family_name="Roux", given_names="Ana", birth_date=date(1960, 1, 1), sex="F", postcode=postcode
            )
            with unit_of_work(sessions, parse_master_keys(key, source="test"), max_document_bytes=1000) as ctx:
                open_record(ctx, SYSTEM, ins=new_ins(), identity=person, channel=channel, opened_by=opener)
    finally:
        engine.dispose()
    return {**base_env, "CARNET_DATABASE_URL": url, "CARNET_MASTER_KEY": key}


def test_stats_as_csv_and_as_a_table(env: dict[str, str]) -> None:
    weeks = ("--period", "week", "--since", "2025-11-03", "--until", "2025-12-07")
    csv = run(env, "stats", "openings", "--by", "region", *weeks, "--format", "csv")
    assert csv.returncode == 0, csv.stderr
    assert csv.stdout.splitlines() == [
        "period,region,region_name,openings",
        "2025-11-03,01,Guadeloupe,1",  # Sunday 23:30 Paris is the week of Monday 3rd
        "2025-11-03,94,Corse,1",
        "2025-12-01,11,Île-de-France,1",  # 30 November 23:30 UTC is Monday 1 December in Paris
    ]
    months = run(env, "stats", "openings", "--period", "month", "--since", "2025-11-01", "--until", "2025-12-31")
    assert months.returncode == 0, months.stderr
    assert "Openings per month" in months.stdout
    assert [line.split()[1:4:2] for line in months.stdout.splitlines() if "2025-" in line] == [
        ["2025-11-01", "2"],
        ["2025-12-01", "1"],
    ]
    paid = run(env, "stats", "remuneration", "--since", "2025-11-01", "--until", "2025-12-31", "--format", "csv")
    assert paid.stdout.splitlines() == [
        "period,finess,openings,amount,closed",
        f"2025-11-01,{PHARMACY},1,1.00,true",
        f"2025-12-01,{PHARMACY},1,1.00,true",
    ]
    assert run(env, "stats", "close-month").stdout.strip() == "Every ended month was frozen already."
    channels = run(env, "stats", "openings", "--by", "channel", *weeks, "--format", "csv").stdout.splitlines()
    assert channels[1:] == ["2025-11-03,online,1", "2025-11-03,pharmacy,1", "2025-12-01,pharmacy,1"]
    empty = run(env, "stats", "documents", "--since", "2025-11-01", "--until", "2025-12-31")
    assert empty.returncode == 0 and "Nothing was counted in this period." in empty.stdout
    assert run(env, "stats", "emergencies", "--format", "csv").stdout.splitlines() == ["period,mode,accesses"]
    overview = run(env, "stats", "overview")
    assert "Openings: 3 of 40,000,000" in overview.stdout


@pytest.mark.parametrize(
    ("arguments", "message", "code"),
    [
        (("openings", "--by", "city"), "Count by: choose channel, region or departement; not 'city'.", 1),
        (("openings", "--period", "year"), "Period: choose day, week or month; not 'year'.", 1),
        (("openings", "--since", "2025-12-01", "--until", "2025-11-01"), "The period ends before it starts.", 1),
        (("documents", "--since", "2025-13-01"), "Invalid value for '--since'", 2),
        (("remuneration", "--format", "xml"), "Format: choose table or csv; not 'xml'.", 1),
        (("remuneration", "--finess", "123"), "FINESS", 1),
    ],
)
def test_bad_input_is_one_readable_line(
    env: dict[str, str], arguments: tuple[str, ...], message: str, code: int
) -> None:
    result = run(env, "stats", *arguments)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
