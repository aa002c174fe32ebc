from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import parse_ins, parse_rpps
from carnet.records.codes import parse_format
from carnet.records.content import check_content
from carnet.records.schemas import parse_opener
from carnet.stats.calendar import PARIS
from carnet.synthetic import synthetic_document, synthetic_opening, synthetic_patient, synthetic_rpps


def test_synthetic_patients_are_valid_and_deterministic() -> None:
    seen = set()
    for index in range(500):
        ins, identity = synthetic_patient(1, index)
        parse_ins(ins)
        departement_of_postcode(identity.postcode)
        seen.add(ins)
        assert synthetic_patient(1, index) == (ins, identity)
    assert len(seen) == 500
    assert synthetic_patient(2, 0) != synthetic_patient(1, 0)


def test_synthetic_documents_pass_the_content_checks() -> None:
    rng = random.Random(3)
    formats = set()
    for _ in range(100):
        document = synthetic_document(rng, "Anne (Test)")
        fmt = parse_format(document.meta.format)
        check_content(document.content, fmt, max_bytes=1_000_000)
        formats.add(fmt)
        parse_rpps(synthetic_rpps(rng))
    assert len(formats) == 3


def test_synthetic_openings_follow_the_campaign() -> None:
    """Channels in the seeds' shares, patients where the French live (Corsica and overseas included), openings
    spread over the last thirteen weeks in opening hours, never in the future; the same draw for the same index."""
    now = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    draws = 6000
    channels: Counter[str] = Counter()
    places: Counter[str] = Counter()
    days = set()
    for index in range(draws):
        departement = departement_of_postcode(synthetic_patient(1, index)[1].postcode).code
        places[departement] += 1
        channel, opener, at = synthetic_opening(random.Random(index), departement, now)
        assert synthetic_opening(random.Random(index), departement, now) == (channel, opener, at)
        channels[channel.value] += 1
        parse_opener(channel.value, opener)
        assert now - timedelta(days=91) <= at <= now
        assert 8 <= at.astimezone(PARIS).hour <= 20
        days.add(at.astimezone(PARIS).date())
    shares = {channel: round(100 * n / draws) for channel, n in channels.items()}
    assert 36 <= shares["pharmacy"] <= 42 and 36 <= shares["online"] <= 42, shares
    assert 15 <= shares["insurance_desk"] <= 21 and 2 <= shares["professional"] + shares["hospital"] <= 6, shares
    assert places["75"] > 10 * places["48"]  # Paris, Lozère
    assert {"2A", "2B", "971", "974", "976"} <= set(places)
    assert len(days) > 80
