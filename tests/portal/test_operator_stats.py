"""The statistics pages over HTTP: the campaign against its target, this week's openings by region, the
remuneration CSV, and a period that ends before it starts as a message beside the field."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from babel.numbers import format_currency
from fastapi.testclient import TestClient

from carnet.kit import clock
from carnet.portal import operator_stats
from carnet.runtime import Runtime
from tests.factories import IDENTITY, open_test_record
from tests.http_fixtures import Person
from tests.portal.forms import field_error, unescaped
from tests.portal.operators import signed_in_operator
from tests.portal.patients import ready_patient

Client = Callable[..., TestClient]
CHART = re.compile(r'<svg class="chart" role="img" aria-labelledby="([\w-]+)-title \1-desc"')


def test_the_overview_draws_the_campaign_against_its_target(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    ready_patient(runtime, person)
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    page = client.get("/operator/statistics")
    assert page.status_code == 200
    text = unescaped(page.text)
    assert CHART.search(text) and '<polyline class="line"' in text and "Objectif : 40" in text
    assert "sur 40" in text and "Ouverts ces 7 derniers jours" in text
    assert "<script" not in text.split("<main", 1)[1]


def test_this_weeks_openings_by_region_as_a_chart_and_its_table(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    ready_patient(runtime, person)  # opened at a pharmacy for a patient of Nantes (44, Pays de la Loire)
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    today = clock.today().isoformat()
    page = client.get(f"/operator/statistics/openings?period=week&by=region&since={today}&until={today}")
    assert page.status_code == 200
    text = unescaped(page.text)
    assert CHART.search(text)
    chart = text.split('<svg class="chart"', 1)[1].split("</svg>", 1)[0]
    assert '<text class="label" x="0" y="15">' in chart and "Pays de la Loire" in chart
    table = text.split('<table class="grid figures">', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col">Région de résidence</th>' in table and "Semaine du " in table
    row = next(r for r in table.split("<tr>") if "Pays de la Loire" in r)
    assert int(re.findall(r"<td>([\d\u202f\u00a0 ]+)</td>", row)[-1].replace("\u202f", "").replace("\u00a0", "")) >= 1
    assert f'href="/operator/statistics/openings.csv?period=week&by=region&since={today}&until={today}"' in text
    download = client.get(f"/operator/statistics/openings.csv?period=week&by=region&since={today}&until={today}")
    assert download.headers["content-disposition"] == f'attachment; filename="openings-{today}-{today}.csv"'
    assert download.text.startswith("period,region,region_name,openings\r\n") and "Pays de la Loire" in download.text


def test_the_remuneration_downloads_as_csv_for_payment(client_for: Client, runtime: Runtime, person: Person) -> None:
    ready_patient(runtime, person)
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    today = clock.today()
    first = today.replace(day=1).isoformat()
    page = unescaped(client.get(f"/operator/statistics/remuneration?since={first}&until={today}").text)
    assert "Rémunération des pharmacies" in page and "Pharmacies payées" in page
    download = client.get(f"/operator/statistics/remuneration.csv?since={first}&until={today}")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"].startswith('attachment; filename="remuneration-')
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows and set(rows[0]) == {"period", "finess", "openings", "amount", "closed"}
    assert all(row["amount"] == f"{int(row['openings'])}.00" for row in rows)  # 1 euro per record opened
    # The page gives the month's total over every pharmacy (one line per month at any national size); the
    # CSV, the payment file, each pharmacy's line: the two agree.
    total = sum(Decimal(row["amount"]) for row in rows)
    assert format_currency(total, "EUR", locale="fr_FR") in page
    assert f"<td>{len(rows)}</td>" in page


def test_a_period_that_ends_before_it_starts_is_a_message_beside_the_field(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    backward = client.get("/operator/statistics/openings?period=week&by=channel&since=2026-03-01&until=2026-02-01")
    assert backward.status_code == 422
    assert field_error(backward, "until") == "La période se termine avant de commencer."
    assert 'value="2026-03-01"' in backward.text and '<option value="channel" selected>' in backward.text
    assert '<svg class="chart"' not in backward.text
    english = client.get(
        "/operator/statistics/documents?since=March&until=2026-02-01", headers={"Accept-Language": "en"}
    )
    assert english.status_code == 422 and field_error(english, "since") == "Enter a date as day, month and year."
    csv_refused = client.get("/operator/statistics/emergencies.csv?since=2026-03-01&until=2026-02-01")
    assert csv_refused.status_code == 422 and csv_refused.headers["content-type"].startswith("text/html")


def test_statistics_need_the_statistics_role(client_for: Client, runtime: Runtime) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "audit")
    for path in ("/operator/statistics", "/operator/statistics/openings", "/operator/statistics/remuneration.csv"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "Votre compte n&#39;a pas le rôle statistiques." in refused.text


def test_a_long_table_is_written_a_slice_at_a_time_and_the_csv_has_every_row(
    client_for: Client, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    with runtime.unit_of_work() as ctx:
        open_test_record(ctx)  # Nantes: Pays de la Loire
        open_test_record(ctx, identity=IDENTITY.model_copy(update={"postcode": "69003"}))  # Auvergne-Rhône-Alpes
    monkeypatch.setattr(operator_stats, "TABLE_ROWS", 1)
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    today = clock.today().isoformat()
    query = f"period=week&by=region&since={today}&until={today}"

    def table(page: str) -> tuple[str, str]:
        text = unescaped(client.get(f"/operator/statistics/openings?{query}{page}").text)
        return text.split('<table class="grid figures">', 1)[1].split("</table>", 1)[0], text

    first, text = table("")
    assert first.count('<th scope="row">') == 1 and f'href="/operator/statistics/openings?{query}&page=2"' in text
    assert re.search(r"Lignes 1 à 1 sur (\d+)", text) and 'rel="prev"' not in text
    assert table("&page=abc")[0] == first  # a page that is not a number is the first
    second, text = table("&page=2")
    assert second.count('<th scope="row">') == 1 and second != first and 'rel="prev"' in text
    regions = re.search(r"Lignes 1 à 1 sur (\d+)", table("")[1])
    assert regions
    download = client.get(f"/operator/statistics/openings.csv?{query}")
    assert download.text.count("\r\n") == int(regions.group(1)) + 1  # the header and every row
