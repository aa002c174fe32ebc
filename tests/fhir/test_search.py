"""Search parameters and ids, as pure functions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from carnet.fhir import search
from carnet.fhir.ids import item_id, parse_item_id
from carnet.kit.errors import BadRequest, NotFound

PARIS = ZoneInfo("Europe/Paris")


def test_date_prefixes_bound_the_period_at_the_value_s_precision() -> None:
    day, next_day = datetime(2026, 3, 3, tzinfo=PARIS), datetime(2026, 3, 4, tzinfo=PARIS)
    assert search.period(["2026-03-03"], "date") == search.Period(day, next_day)
    assert search.period(["ge2026-03-03"], "date") == search.Period(day, None)
    assert search.period(["gt2026-03-03"], "date") == search.Period(next_day, None)
    assert search.period(["lt2026-03-03"], "date") == search.Period(None, day)
    assert search.period(["le2026-03-03"], "date") == search.Period(None, next_day)
    assert search.period(["ge2026"], "date").start == datetime(2026, 1, 1, tzinfo=PARIS)
    assert search.period(["lt2026-12"], "date").before == datetime(2026, 12, 1, tzinfo=PARIS)
    assert search.period(["le2026-12"], "date").before == datetime(2027, 1, 1, tzinfo=PARIS)
    instant = search.period(["ge2026-03-03T08:30:00Z"], "date").start
    assert instant == datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    both = search.period(["ge2026-03-01", "lt2026-03-10", "ge2026-03-02"], "date")
    assert both == search.Period(datetime(2026, 3, 2, tzinfo=PARIS), datetime(2026, 3, 10, tzinfo=PARIS))


@pytest.mark.parametrize("value", ["yesterday", "ne2026-01-01", "2026-13-01", "2026-02-30", "ge2026-01-01T25:00"])
def test_what_is_not_a_date_is_refused(value: str) -> None:
    with pytest.raises(BadRequest):
        search.period([value], "date")


def test_paging_and_unknown_parameters() -> None:
    assert search.page(QueryParams("")) == search.Page(20, 0)
    assert search.page(QueryParams("_count=5&_offset=10")) == search.Page(5, 10)
    for bad in ("_count=0", "_count=101", "_count=x", "_offset=-1"):
        with pytest.raises(BadRequest):
            search.page(QueryParams(bad))
    with pytest.raises(BadRequest):
        search.check_known(QueryParams("patient=1&colour=blue"), {"patient"})
    search.check_known(QueryParams("patient=1&_count=2"), {"patient"})


@given(st.uuids(), st.uuids())
def test_item_ids_round_trip_and_fit_in_a_fhir_id(patient: uuid.UUID, item: uuid.UUID) -> None:
    text = item_id(patient, item)
    assert len(text) <= 64 and all(c.isalnum() or c in "-." for c in text)
    assert parse_item_id(text) == (patient, item)


@pytest.mark.parametrize("text", ["", "abc", "x" * 53, "not.an.id", "../../etc"])
def test_a_malformed_id_names_nothing(text: str) -> None:
    with pytest.raises(NotFound):
        parse_item_id(text)
