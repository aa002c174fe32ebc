"""The statistics at national size: each read of the service, and `carnet stats ... --format csv`.

    uv run python -m bench.bench_stats --records 1000000

How the data is made, honestly: the records (and one document per record, and emergency episodes) are
written by COPY straight into their tables of a database migrated up to the revision before the counters,
as a database that lived before them would be; then the counters' migration runs and its backfill counts
them (the test tests/stats/test_counting.py shows the backfill counts what live counting counts). The rows
carry what the counters read (channel, opener, opening instant, département, region, state; class and
deposit instant; mode and start) and nothing else: no identity, no content, no key, so the records cannot
be read through the services; the statistics never read them. Openings are spread over five years (growing
as the campaign did), channels drawn from the seeds' shares, départements from their population, 20,000
pharmacies.

Then it times each service function, each call its own unit of work as a page's request would be, p50 and
p99 over repeated calls; each statistics page of the operator space, asked by an operator signed in through
the portal's own form, through the application in-process (Starlette's TestClient: no network), with the
SQL statements one page costs; and `carnet stats` as a process (start-up included).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import pyotp
from alembic import command
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, event

from carnet.access.actor import Actor
from carnet.app import create_app
from carnet.context import Context
from carnet.identity import operators
from carnet.kit import clock
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import alembic_config, make_engine, make_sessionmaker
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.kit.geography import departements
from carnet.kit.identifiers import luhn_check_digit
from carnet.runtime import Runtime
from carnet.settings import Settings
from carnet.stats import service
from carnet.stats.calendar import paris_day
from carnet.stats.population import populations
from carnet.synthetic import CHANNEL_SHARES

BEFORE_STATS = "20261205_running_episodes"
YEARS = 5
PHARMACIES = 20_000
CLASSES = ("11", "11", "11", "42", "42", "10", "31", "43", "60", "90")  # lab results first, then prescriptions


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def pharmacy(index: int) -> str:
    payload = f"{10 + index % 89:02d}{index:06d}"
    return payload + luhn_check_digit(payload)


def fill(url: str, records: int, now: datetime) -> None:
    """COPY `records` records, as many documents and one emergency per 200 records, into the pre-counter schema."""
    rng = random.Random(13)
    places = populations()
    codes, weights = list(places), list(places.values())
    region = {code: found.region for code, found in departements().items()}
    channels = rng.choices(list(CHANNEL_SHARES), weights=list(CHANNEL_SHARES.values()), k=records)
    where = rng.choices(codes, weights=weights, k=records)
    span = timedelta(days=365 * YEARS).total_seconds()
    engine = make_engine(url, role=None)
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        columns = "patient_id, ins, state, channel, opened_by, opened_at, departement, region, closed_at, destroyed_at"
        patients: list[tuple[uuid.UUID, datetime]] = []
        with cursor.copy(f"COPY records ({columns}) FROM STDIN") as copy:
            for index in range(records):
                # Openings grow over the five years: the square root puts more of them near now.
                opened_at = now - timedelta(seconds=span * (1 - rng.random() ** 0.5))
                channel = channels[index]
                opener = {
                    "pharmacy": pharmacy(rng.randrange(PHARMACIES)),
                    "hospital": "440000289",
                    "professional": "10000000018",
                    "insurance_desk": "CPAM0042",
                    "online": "patient",
                }[channel.value]
                draw = rng.random()
                state = "open" if draw < 0.95 else "closed" if draw < 0.99 else "destroyed"
                closed_at = None if state == "open" else opened_at + (now - opened_at) / 2
                patient_id = uuid.UUID(int=rng.getrandbits(128), version=4)
                patients.append((patient_id, opened_at))
                copy.write_row(
                    (
                        patient_id,
                        None if state == "destroyed" else f"{index:015d}",
                        state,
                        channel.value,
                        opener,
                        opened_at,
                        where[index],
                        region[where[index]],
                        closed_at,
                        closed_at if state == "destroyed" else None,
                    )
                )
        columns = (
            "id, patient_id, class_code, type_code, title_ct, act_date, author_kind, author_ref, created_at, "
            "deposited_at, format, size, sha256, status, content_id, masked, hidden_from_representatives, version, "
            "updated_at"
        )
        digest = hashlib.sha256(b"bench").hexdigest()
        with cursor.copy(f"COPY documents ({columns}) FROM STDIN") as copy:
            for patient_id, opened_at in patients:
                deposited = min(now, opened_at + timedelta(days=rng.randint(0, 60)))
                copy.write_row(
                    (
                        uuid.UUID(int=rng.getrandbits(128), version=4),
                        patient_id,
                        rng.choice(CLASSES),
                        "11502-2",
                        b"\x00",
                        deposited.date(),
                        "professional",
                        "10000000018",
                        deposited,
                        deposited,
                        "application/pdf",
                        1,
                        digest,
                        "current",
                        uuid.uuid4(),
                        False,
                        False,
                        1,
                        deposited,
                    )
                )
        columns = "id, patient_id, professional_rpps, mode, justification_ct, started_at, ends_at"
        with cursor.copy(f"COPY emergency_episodes ({columns}) FROM STDIN") as copy:
            for patient_id, opened_at in patients[::200]:
                started = min(now - timedelta(hours=1), opened_at + timedelta(days=1))
                mode = "regulation" if rng.random() < 0.3 else "emergency"
                copy.write_row(
                    (uuid.uuid4(), patient_id, "10000000018", mode, b"\x00", started, started + timedelta(hours=2))
                )
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def timed(runtime: Runtime, read: Callable[[Context], object], calls: int) -> tuple[list[float], object]:
    latencies, answer = [], None
    for _ in range(calls):
        began = time.perf_counter()
        with runtime.unit_of_work() as ctx:
            answer = read(ctx)
        latencies.append(time.perf_counter() - began)
    return latencies, answer


PAGES = (
    "/operator/statistics",
    "/operator/statistics/openings",
    "/operator/statistics/openings?period=week&by=region&since={week}&until={today}",
    "/operator/statistics/openings?period=day&by=channel&since={year}&until={today}",
    "/operator/statistics/openings?period=month&by=departement&since={five_years}&until={today}",
    "/operator/statistics/documents?since={five_years}&until={today}",
    "/operator/statistics/emergencies?since={five_years}&until={today}",
    "/operator/statistics/remuneration",
    "/operator/statistics/remuneration.csv?since={last_month}&until={last_month_end}",
)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages(runtime: Runtime, engine: Engine, today: date, calls: int) -> None:
    """Each statistics page, asked `calls` times by an operator with the statistics role: server time, statements."""
    password = "bench-" + uuid.uuid4().hex
    with runtime.unit_of_work() as ctx:
        created = operators.create_operator(
            ctx, login=f"bench-{uuid.uuid4().hex[:8]}", password=password, roles=["statistics"]
        )
    last_month_end = today.replace(day=1) - timedelta(days=1)
    words = {
        "today": today.isoformat(),
        "week": (today - timedelta(days=today.weekday())).isoformat(),
        "year": (today - timedelta(days=365)).isoformat(),
        "five_years": (today - timedelta(days=365 * YEARS)).isoformat(),
        "last_month": last_month_end.replace(day=1).isoformat(),
        "last_month_end": last_month_end.isoformat(),
    }
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    with TestClient(create_app(runtime), base_url="https://carnet.test") as client:
        found = TOKEN.search(client.get("/operator/sign-in").text)
        if found is None:
            raise SystemExit("the operator's sign-in page has no form token")
        form = {
            "csrf_token": found.group(1),
            "login": created.login,
            "password": password,
            "code": pyotp.TOTP(created.totp_secret).now(),
            "next": "/operator",
        }
        if client.post("/operator/sign-in", data=form, follow_redirects=False).status_code != 303:
            raise SystemExit("the bench's operator could not sign in")
        print(f"\n| page | p50 | p99 | statements |  ({calls} requests each, in-process, one at a time)")
        print("|---|---|---|---|")
        for path in (page.format(**words) for page in PAGES):
            warm = client.get(path)  # compiles the page's statements and template
            if warm.status_code != 200:
                raise SystemExit(f"{path}: {warm.status_code} {warm.text[:300]}")
            latencies = []
            statements = 0
            event.listen(engine, "before_cursor_execute", count)
            for _ in range(calls):
                began = time.perf_counter()
                answer = client.get(path)
                latencies.append(time.perf_counter() - began)
                if answer.status_code != 200:
                    raise SystemExit(f"{path}: {answer.status_code}")
            event.remove(engine, "before_cursor_execute", count)
            print(
                f"| `{path}` | {percentile(latencies, 0.5) * 1000:.1f} ms "
                f"| {percentile(latencies, 0.99) * 1000:.1f} ms | {statements / calls:.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--cli-calls", type=int, default=10)
    parser.add_argument("--pgdata", type=Path, default=Path(tempfile.gettempdir()) / "carnet-bench" / "pgdata")
    args = parser.parse_args()

    key_text = generate_master_key_text()
    maintenance = start_embedded_server(args.pgdata)
    url = ensure_database(maintenance, f"bench_stats_{args.records}", recreate=True)
    config = alembic_config(url)
    command.upgrade(config, BEFORE_STATS)
    now = clock.now()
    began = time.perf_counter()
    fill(url, args.records, now)
    print(f"COPY of {args.records:,} records, {args.records:,} documents: {time.perf_counter() - began:.1f} s")
    began = time.perf_counter()
    command.upgrade(config, "head")
    print(f"the counters' migration (create and backfill): {time.perf_counter() - began:.1f} s")

    engine = make_engine(url)
    keys = parse_master_keys(key_text, source="bench")
    runtime = Runtime(Settings(master_key=SecretStr(key_text)), engine, make_sessionmaker(engine), keys)
    job = Actor.system("bench")
    today = paris_day(now)
    five_years = today - timedelta(days=365 * YEARS)
    year = today - timedelta(days=365)
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with runtime.unit_of_work() as ctx:
        began = time.perf_counter()
        frozen = service.close_ended_months(ctx, job)
        print(f"freezing the {len(frozen)} ended months' remuneration (once): {time.perf_counter() - began:.2f} s")
    some_pharmacy = pharmacy(17)
    reads: list[tuple[str, Callable[[Context], object]]] = [
        ("overview", lambda ctx: service.overview(ctx, job)),
        (
            "openings this week by region",
            lambda ctx: service.openings(ctx, job, period="week", by="region", since=today, until=today),
        ),
        (
            "openings per week by region, 12 weeks",
            lambda ctx: service.openings(
                ctx, job, period="week", by="region", since=today - timedelta(weeks=12), until=today
            ),
        ),
        (
            "openings per day by channel, 366 days",
            lambda ctx: service.openings(
                ctx, job, period="day", by="channel", since=today - timedelta(days=365), until=today
            ),
        ),
        (
            "openings per week, 5 years",
            lambda ctx: service.openings(ctx, job, period="week", by=None, since=five_years, until=today),
        ),
        (
            "openings per month by departement, 5 years",
            lambda ctx: service.openings(ctx, job, period="month", by="departement", since=five_years, until=today),
        ),
        (
            "documents per month x class, 5 years",
            lambda ctx: service.documents(ctx, job, since=five_years, until=today),
        ),
        ("emergencies per month, 5 years", lambda ctx: service.emergencies(ctx, job, since=five_years, until=today)),
        (
            "remuneration this month, all pharmacies, as CSV",
            lambda ctx: service.remuneration(ctx, job, since=today.replace(day=1), until=today).to_csv(),
        ),
        (
            "remuneration last month, all pharmacies, as CSV (the payment file)",
            lambda ctx: service.remuneration(ctx, job, since=last_month, until=last_month).to_csv(),
        ),
        (
            "remuneration 12 months, all pharmacies, as CSV (a bulk export, not a page)",
            lambda ctx: service.remuneration(ctx, job, since=year, until=today).to_csv(),
        ),
        (
            "remuneration 5 years, one pharmacy",
            lambda ctx: service.remuneration(ctx, job, since=five_years, until=today, finess=some_pharmacy),
        ),
    ]
    print(f"\n| read | rows | p50 | p99 |  ({args.calls} calls each, each its own unit of work)")
    print("|---|---|---|---|")
    for label, read in reads:
        latencies, answer = timed(runtime, read, args.calls)
        rows = len(answer.rows) if isinstance(answer, service.Table) else 1
        if isinstance(answer, str):
            rows = answer.count("\n") - 1
        print(
            f"| {label} | {rows:,} | {percentile(latencies, 0.5) * 1000:.1f} ms "
            f"| {percentile(latencies, 0.99) * 1000:.1f} ms |"
        )
    pages(runtime, engine, today, args.calls)
    engine.dispose()

    carnet = shutil.which("carnet") or "carnet"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}
    env |= {"CARNET_DATABASE_URL": url, "CARNET_MASTER_KEY": key_text, "CARNET_DATA_DIR": str(args.pgdata.parent)}
    commands = [
        ("openings", "--by", "region", "--period", "week", "--format", "csv"),
        ("openings", "--by", "departement", "--period", "month", "--since", five_years.isoformat(), "--format", "csv"),
        ("documents", "--since", five_years.isoformat(), "--format", "csv"),
        ("remuneration", "--format", "csv"),
    ]
    print(f"\n| `carnet stats ...` | p50 | p99 |  ({args.cli_calls} runs each, process start-up included)")
    print("|---|---|---|")
    for arguments in commands:
        latencies = []
        for _ in range(args.cli_calls):
            began = time.perf_counter()
            line = [carnet, "stats", *arguments]
            done = subprocess.run(line, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (ours)
            latencies.append(time.perf_counter() - began)
            if done.returncode != 0:
                raise SystemExit(done.stderr)
        print(
            f"| `carnet stats {' '.join(arguments)}` | {percentile(latencies, 0.5) * 1000:.0f} ms "
            f"| {percentile(latencies, 0.99) * 1000:.0f} ms |"
        )
    startup = []
    for _ in range(args.cli_calls):
        began = time.perf_counter()
        subprocess.run([carnet, "--help"], env=env, capture_output=True, check=False)  # noqa: S603 (our own)
        startup.append(time.perf_counter() - began)
    print(f"(for comparison, `carnet --help`: p50 {percentile(startup, 0.5) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
