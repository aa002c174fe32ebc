"""The statistics against a fixture computed by hand: records opened at chosen instants through the real
services, through every channel, in Corsica (2A, 2B) and overseas (971, 974, 976), on both sides of a week
and of a month boundary in Paris time, and a pharmacy month that stays frozen once it has ended.

Instants are in winter 2030 (Paris is UTC+1), far from the dates other tests write, and every figure below is
written out by hand from the list of instants, not computed by the code under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from carnet.access.actor import Actor, Mode
from carnet.access.service import declare_emergency, grant_authorisation
from carnet.context import Context
from carnet.identity.operators import create_operator
from carnet.kit import clock
from carnet.kit.errors import Forbidden, Invalid
from carnet.records.codes import Channel
from carnet.records.documents import deposit_document, replace_document
from carnet.records.schemas import PatientIdentity
from carnet.records.service import close_record, destroy_record, open_record, request_destruction
from carnet.stats import service as stats
from tests.factories import PDF, SYSTEM, document_meta, finess, new_ins, rpps
from tests.http_fixtures import PASSWORD

PHARMACY_A, PHARMACY_C, HOSPITAL_B = finess(701), finess(703), finess(702)
DOCTOR = rpps(701)
Clock = Callable[[datetime], None]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Set the instant every service reads from kit.clock."""

    def set_now(instant: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: instant)

    return set_now


@pytest.fixture
def reader(ctx: Context) -> Actor:
    created = create_operator(ctx, login=f"stats-{uuid.uuid4().hex[:8]}", password=PASSWORD, roles=["statistics"])
    return Actor.operator(created.id)


def identity(postcode: str) -> PatientIdentity:
    return PatientIdentity(
        family_name="Martin", given_names="Lou", birth_date=date(1990, 5, 1), sex="F", postcode=postcode
    )


def opened(ctx: Context, at: Clock, instant: str, channel: Channel, opener: str, postcode: str) -> uuid.UUID:
    at(utc(instant))
    return open_record(ctx, SYSTEM, ins=new_ins(), identity=identity(postcode), channel=channel, opened_by=opener)


# The fixture: (UTC instant, channel, opener, postcode), with its Paris day worked out by hand.
OPENINGS = [
    ("2030-01-06 22:30", Channel.PHARMACY, PHARMACY_A, "20000"),  # Sun 6 Jan 23:30 Paris, 2A Ajaccio
    ("2030-01-06 23:30", Channel.ONLINE, "patient", "20200"),  # Mon 7 Jan 00:30 Paris, 2B Bastia
    ("2030-01-15 09:00", Channel.PHARMACY, PHARMACY_C, "44000"),  # Tue 15 Jan, 44 Nantes
    ("2030-01-31 22:30", Channel.INSURANCE_DESK, "AGENT42", "97100"),  # Thu 31 Jan 23:30 Paris, 971
    ("2030-01-31 23:30", Channel.PROFESSIONAL, DOCTOR, "97400"),  # Fri 1 Feb 00:30 Paris, 974
    ("2030-02-03 09:00", Channel.PHARMACY, PHARMACY_A, "75011"),  # Sun 3 Feb, 75 Paris
    ("2030-02-12 10:00", Channel.HOSPITAL, HOSPITAL_B, "97600"),  # Tue 12 Feb, 976 Mayotte
]


@pytest.fixture
def fixture(ctx: Context, at: Clock) -> list[uuid.UUID]:
    return [opened(ctx, at, *opening) for opening in OPENINGS]


def test_openings_per_day_week_and_month(ctx: Context, reader: Actor, fixture: list[uuid.UUID]) -> None:
    days = stats.openings(ctx, reader, period="day", by=None, since=date(2030, 1, 5), until=date(2030, 1, 8))
    assert days.columns == ("period", "openings")
    assert days.rows == ((date(2030, 1, 5), 0), (date(2030, 1, 6), 1), (date(2030, 1, 7), 1), (date(2030, 1, 8), 0))
    weeks = stats.openings(ctx, reader, period="week", by=None, since=date(2029, 12, 31), until=date(2030, 2, 17))
    assert weeks.rows == (
        (date(2029, 12, 31), 1),  # Sunday 23:30 Paris is still the week of Monday 31 December
        (date(2030, 1, 7), 1),  # Monday 00:30 Paris starts the next one
        (date(2030, 1, 14), 1),
        (date(2030, 1, 21), 0),
        (date(2030, 1, 28), 3),  # 31 Jan 23:30, 1 Feb 00:30 and Sunday 3 Feb
        (date(2030, 2, 4), 0),
        (date(2030, 2, 11), 1),
    )
    months = stats.openings(ctx, reader, period="month", by=None, since=date(2030, 1, 1), until=date(2030, 2, 28))
    assert months.rows == ((date(2030, 1, 1), 4), (date(2030, 2, 1), 3))  # 31 Jan 23:30 Paris is January's
    assert months.to_csv() == "period,openings\r\n2030-01-01,4\r\n2030-02-01,3\r\n"


def test_openings_by_channel_region_and_departement(ctx: Context, reader: Actor, fixture: list[uuid.UUID]) -> None:
    january, february = date(2030, 1, 1), date(2030, 2, 1)
    by_channel = stats.openings(ctx, reader, period="month", by="channel", since=january, until=date(2030, 2, 28))
    assert by_channel.columns == ("period", "channel", "openings")
    assert by_channel.rows == (
        (january, "insurance_desk", 1),
        (january, "online", 1),
        (january, "pharmacy", 2),
        (february, "hospital", 1),
        (february, "pharmacy", 1),
        (february, "professional", 1),
    )
    by_region = stats.openings(ctx, reader, period="month", by="region", since=january, until=date(2030, 2, 28))
    assert by_region.columns == ("period", "region", "region_name", "openings")
    assert by_region.rows == (
        (january, "01", "Guadeloupe", 1),
        (january, "52", "Pays de la Loire", 1),
        (january, "94", "Corse", 2),  # 2A and 2B
        (february, "04", "La Réunion", 1),
        (february, "06", "Mayotte", 1),
        (february, "11", "Île-de-France", 1),
    )
    week = date(2029, 12, 31)
    by_place = stats.openings(ctx, reader, period="week", by="departement", since=week, until=date(2030, 1, 13))
    assert by_place.columns == ("period", "departement", "departement_name", "region", "openings")
    assert by_place.rows == ((week, "2A", "Corse-du-Sud", "94", 1), (date(2030, 1, 7), "2B", "Haute-Corse", "94", 1))


def test_documents_and_emergencies_per_month(ctx: Context, at: Clock, reader: Actor, fixture: list[uuid.UUID]) -> None:
    patient = fixture[0]
    grant_authorisation(ctx, patient, DOCTOR, scope="read_write", via="card")
    doctor = Actor.professional(DOCTOR, "10")
    at(utc("2030-01-31 22:30"))  # 23:30 Paris: January
    report = document_meta(class_code="10", act_date=date(2030, 1, 30), author=None)
    first = deposit_document(ctx, doctor, patient, report, PDF)
    at(utc("2030-01-31 23:30"))  # 00:30 Paris: February
    deposit_document(ctx, SYSTEM, patient, document_meta(class_code="11", act_date=date(2030, 1, 30)), PDF)
    replace_document(ctx, doctor, patient, first, report, PDF)
    at(utc("2030-02-20 12:00"))
    deposit_document(ctx, SYSTEM, patient, document_meta(class_code="11", act_date=date(2030, 2, 20)), PDF)
    table = stats.documents(ctx, reader, since=date(2030, 1, 15), until=date(2030, 2, 28))
    assert table.columns == ("period", "class", "class_name", "documents")
    assert table.rows == (
        (date(2030, 1, 1), "10", "Compte rendu", 1),
        (date(2030, 2, 1), "10", "Compte rendu", 1),  # the new version is a deposit
        (date(2030, 2, 1), "11", "Synthèse", 2),
    )
    at(utc("2030-01-31 22:59"))
    declare_emergency(ctx, Actor.professional(rpps(702), "60", mode=Mode.EMERGENCY), patient, "Patient inconscient")
    at(utc("2030-01-31 23:01"))
    declare_emergency(ctx, Actor.professional(rpps(703), "60", mode=Mode.EMERGENCY), patient, "Chute, bilan urgent")
    declare_emergency(ctx, Actor.professional(rpps(704), "10", mode=Mode.REGULATION), patient, "Appel au centre 15")
    accesses = stats.emergencies(ctx, reader, since=date(2030, 1, 1), until=date(2030, 3, 31))
    assert accesses.columns == ("period", "mode", "accesses")
    assert accesses.rows == (
        (date(2030, 1, 1), "emergency", 1),
        (date(2030, 2, 1), "emergency", 1),
        (date(2030, 2, 1), "regulation", 1),
    )


def test_a_closed_month_of_remuneration_never_changes(
    ctx: Context, at: Clock, reader: Actor, fixture: list[uuid.UUID]
) -> None:
    january, february = date(2030, 1, 1), date(2030, 2, 1)
    at(utc("2030-02-15 12:00"))
    first = stats.remuneration(ctx, reader, since=january, until=date(2030, 2, 28))
    assert first.columns == ("period", "finess", "openings", "amount", "closed")
    expected = (
        (january, PHARMACY_A, 1, Decimal("1.00"), True),
        (january, PHARMACY_C, 1, Decimal("1.00"), True),
        (february, PHARMACY_A, 1, Decimal("1.00"), False),  # the month is not over: it may still grow
    )
    assert first.rows == expected
    # Later events: January's record of pharmacy A is destroyed, and an opening dated in January (its
    # transaction committed after the month was frozen) reaches the counters. January's amounts stay.
    request_destruction(ctx, Actor.patient(fixture[0]), fixture[0])
    destroy_record(ctx, SYSTEM, fixture[0])
    opened(ctx, at, "2030-01-20 10:00", Channel.PHARMACY, PHARMACY_A, "75011")
    opened(ctx, at, "2030-02-16 08:00", Channel.PHARMACY, PHARMACY_A, "75011")
    again = stats.remuneration(ctx, reader, since=january, until=date(2030, 2, 28))
    assert again.rows == (*expected[:2], (february, PHARMACY_A, 2, Decimal("2.00"), False))
    assert stats.remuneration_months(ctx, reader, since=january, until=february).rows == (
        (january, 2, 2, Decimal("2.00"), True),
        (february, 1, 2, Decimal("2.00"), False),
    )
    at(utc("2030-03-01 09:00"))  # February has ended: its first read freezes it
    assert stats.remuneration(ctx, reader, since=february, until=february, finess=PHARMACY_A).rows == (
        (february, PHARMACY_A, 2, Decimal("2.00"), True),
    )
    opened(ctx, at, "2030-02-27 10:00", Channel.PHARMACY, PHARMACY_A, "75011")
    at(utc("2030-03-01 09:00"))
    assert stats.remuneration(ctx, reader, since=february, until=february, finess=PHARMACY_A).rows == (
        (february, PHARMACY_A, 2, Decimal("2.00"), True),
    )
    months = stats.remuneration_months(ctx, reader, since=january, until=february)
    assert months.columns == ("period", "pharmacies", "openings", "amount", "closed")
    assert months.rows == ((january, 2, 2, Decimal("2.00"), True), (february, 1, 2, Decimal("2.00"), True))
    csv = stats.remuneration(ctx, reader, since=january, until=february).to_csv()
    assert csv == (
        "period,finess,openings,amount,closed\r\n"
        f"2030-01-01,{PHARMACY_A},1,1.00,true\r\n"
        f"2030-01-01,{PHARMACY_C},1,1.00,true\r\n"
        f"2030-02-01,{PHARMACY_A},2,2.00,true\r\n"
    )


def test_a_pharmacy_reads_its_own_earnings_only(ctx: Context, at: Clock, fixture: list[uuid.UUID]) -> None:
    at(utc("2030-02-15 12:00"))
    pharmacist = Actor.professional(rpps(705), "21", organisation=PHARMACY_A)
    assert stats.pharmacy_earnings(ctx, pharmacist, PHARMACY_A).rows == (
        (date(2030, 1, 1), PHARMACY_A, 1, Decimal("1.00"), True),
        (date(2030, 2, 1), PHARMACY_A, 1, Decimal("1.00"), False),
    )
    with pytest.raises(Forbidden):
        stats.pharmacy_earnings(ctx, pharmacist, PHARMACY_C)
    with pytest.raises(Forbidden):
        stats.pharmacy_earnings(ctx, Actor.desk("AGENT42", office=PHARMACY_A), PHARMACY_A)


def test_the_overview_counts_against_the_target(ctx: Context, at: Clock, reader: Actor) -> None:
    at(utc("2030-02-13 12:00"))  # a Wednesday
    before = stats.overview(ctx, reader)
    records = [opened(ctx, at, *opening) for opening in OPENINGS]
    close_record(ctx, Actor.patient(records[2]), records[2])
    at(utc("2030-02-13 12:00"))
    after = stats.overview(ctx, reader)
    assert after.total_openings - before.total_openings == 7
    assert after.active_records - before.active_records == 6
    assert after.closed_records - before.closed_records == 1
    assert after.target == 40_000_000
    assert after.today == date(2030, 2, 13)
    assert after.last_7_days - before.last_7_days == 1  # 7 to 13 February: the hospital's, on the 12th
    assert after.this_week - before.this_week == 1  # since Monday 11 February
    assert after.projected_on == stats.projection(after.total_openings, after.last_7_days, date(2030, 2, 13))


def test_the_projection_at_the_weekly_rate() -> None:
    today = date(2030, 2, 13)
    assert stats.projection(39_999_000, 200, today) == date(2030, 3, 20)  # 5 weeks of 200
    assert stats.projection(39_999_999, 200, today) == date(2030, 2, 14)  # a day at 200 a week covers 28
    assert stats.projection(20_000_000, 200_000, today) == date(2032, 1, 14)  # 100 weeks
    assert stats.projection(40_000_000, 0, today) == today
    assert stats.projection(1, 0, today) is None


def test_the_projection_is_none_without_openings(ctx: Context, at: Clock, reader: Actor) -> None:
    at(utc("2041-06-01 12:00"))
    assert stats.overview(ctx, reader).projected_on is None
    opened(ctx, at, "2041-06-01 12:00", Channel.ONLINE, "patient", "75011")
    overview = stats.overview(ctx, reader)
    assert overview.last_7_days == 1
    assert overview.projected_on is None  # 40 million weeks away: past any calendar


def test_bad_periods_and_readers_are_refused(ctx: Context, reader: Actor) -> None:
    with pytest.raises(Invalid) as ended:
        stats.openings(ctx, reader, period="week", by=None, since=date(2030, 2, 1), until=date(2030, 1, 1))
    assert (ended.value.code, ended.value.message) == ("invalid-period", "The period ends before it starts.")
    for read in (stats.documents, stats.emergencies, stats.remuneration, stats.remuneration_months):
        with pytest.raises(Invalid):
            read(ctx, reader, since=date(2030, 2, 1), until=date(2030, 1, 1))
    with pytest.raises(Invalid) as unknown:
        stats.openings(ctx, reader, period="week", by="city", since=date(2030, 1, 1), until=date(2030, 2, 1))  # type: ignore[arg-type]
    assert unknown.value.code == "invalid-by"
    with pytest.raises(Invalid) as long:
        stats.openings(ctx, reader, period="day", by=None, since=date(2028, 1, 1), until=date(2030, 1, 1))
    assert long.value.code == "period-too-long"
    auditor = Actor.operator(
        create_operator(ctx, login=f"audit-{uuid.uuid4().hex[:8]}", password=PASSWORD, roles=["audit"]).id
    )
    with pytest.raises(Forbidden) as refused:
        stats.overview(ctx, auditor)
    assert refused.value.message == "Your account does not have the statistics role."
    for stranger in (Actor.operator(uuid.uuid4()), Actor.professional(DOCTOR, "10"), Actor.patient(uuid.uuid4())):
        with pytest.raises(Forbidden):
            stats.openings(ctx, stranger, period="month", by=None, since=date(2030, 1, 1), until=date(2030, 1, 31))
