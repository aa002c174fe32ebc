"""Throughput and latency of the FHIR API under load, against `carnet serve`, beside a hello-world floor.

    uv run --group bench python -m bench.bench_fhir --patients 2000 --users 16 --seconds 30

Seeds N synthetic patients (5 documents, a blood group, sometimes an allergy each) on the embedded server,
adds three body weights to each record's profile, authorises one doctor on all of them, then starts
`carnet serve` and a bare FastAPI hello-world (bench/hello.py), each a uvicorn process with one worker and
uvicorn's access log (as `carnet serve` runs it), and runs locust headless against each in turn:
DocumentReference searches (a random patient's first page), MHD document bundles (one document each),
Observation searches (a random patient's first page of the profile's observations), Observation writes (a
body weight in kg), and the hello-world. It prints requests per second, p50 and p99 for each, the ratio of
each to the hello-world, the SQL statements each costs, and the stored bytes per profile entry and per
document's metadata, measured by SQL on the bench database after the run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, event, select, text
from tests.fhir.documents import bundle

from bench.observations import body_weight
from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.api.deps import Web
from carnet.app import create_app
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker, migrate
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.records.models import Record
from carnet.records.profile import add_profile_entry
from carnet.runtime import Runtime
from carnet.settings import Settings
from carnet.synthetic import seed_population

DOCTOR_RPPS = "10000000017"
WEIGHTS_PER_RECORD = 3
LOADS = ("hello", "search", "bundle", "profile-search", "profile-write")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def run_locust(host: str, label: str, users: int, seconds: int, out: Path, env: dict[str, str]) -> dict[str, float]:
    prefix = out / label
    command = [
        sys.executable, "-m", "locust", "-f", "bench/locustfile.py", "--headless", "--only-summary",
        "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--host", host, "--tags", label,
        "--csv", str(prefix), "--loglevel", "WARNING",
    ]  # fmt: skip
    with open(f"{prefix}.log", "w") as log:
        subprocess.run(command, check=False, env=env, stdout=log, stderr=log)  # noqa: S603 (our own command line)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        row = next((r for r in csv.DictReader(stats) if r["Name"] == label), None)
    if row is None:
        raise SystemExit(f"locust measured no {label} request; see {prefix}.log")
    return {
        "requests": float(row["Request Count"]),
        "failures": float(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p99": float(row["99%"]),
    }


def statements_per_request(runtime: Runtime, token: str, patients: list[str]) -> dict[str, float]:
    """SQL statements one call of each load costs, counted in-process (BEGIN and COMMIT are not statements)."""
    counted = 0

    def count(*_args: object) -> None:
        nonlocal counted
        counted += 1

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    calls: dict[str, tuple[Callable[[TestClient, str], httpx.Response], int]] = {
        "search": (lambda c, p: c.get(f"/fhir/DocumentReference?patient={p}&_count=20", headers=headers), 200),
        "bundle": (lambda c, p: c.post("/fhir", json=bundle(p, count=1), headers=headers), 200),
        "profile-search": (lambda c, p: c.get(f"/fhir/Observation?patient={p}&_count=20", headers=headers), 200),
        "profile-write": (lambda c, p: c.post("/fhir/Observation", json=body_weight(p), headers=headers), 201),
    }
    figures = {}
    with TestClient(create_app(runtime)) as client:
        for name, (call, status) in calls.items():
            warm = call(client, patients[0])  # the first call of a kind loads the matrix and compiles statements
            if warm.status_code != status:
                raise SystemExit(f"{name}: {warm.status_code} {warm.text[:300]}")
            event.listen(runtime.engine, "before_cursor_execute", count)
            counted = 0
            for patient in patients[1:21]:
                call(client, patient)
            event.remove(runtime.engine, "before_cursor_execute", count)
            figures[name] = counted / 20
    return figures


def seed_weights(runtime: Runtime, patients: list[str]) -> None:
    """Three body weights in each record's profile (the seed gives a blood group and sometimes an allergy)."""
    actor = Actor.system("seed")
    rng = random.Random(19)
    for start in range(0, len(patients), 200):
        with runtime.unit_of_work() as ctx:
            for patient in patients[start : start + 200]:
                for _ in range(WEIGHTS_PER_RECORD):
                    day = datetime.now(UTC).date() - timedelta(days=rng.randrange(1, 3650))
                    weight = {"kind": "weight", "kilograms": round(rng.uniform(45, 110), 1), "measured_on": day}
                    add_profile_entry(
                        ctx, actor, uuid.UUID(patient), weight, source_class="11", author_rpps=DOCTOR_RPPS
                    )


def columns(engine: Engine, table: str) -> set[str]:
    query = text("SELECT column_name FROM information_schema.columns WHERE table_name = :t")
    with engine.connect() as connection:
        return set(connection.scalars(query, {"t": table}))


def stored_bytes(engine: Engine, loads_began: datetime) -> list[tuple[str, ...]]:
    """Average stored bytes per profile entry and per document's metadata, seeded and written over FHIR apart.

    octet_length of each encrypted column (ciphertext, nonce and tag; already incompressible), and
    pg_column_size of the whole row (what the row takes, its plain columns included)."""
    rows: list[tuple[str, ...]] = []
    profile = [c for c in ("payload_ct", "resource_ct") if c in columns(engine, "profile_entries")]
    document = [c for c in ("title_ct", "author_name_ct", "resource_ct") if c in columns(engine, "documents")]
    versions = "resource_ct" in columns(engine, "document_versions")
    averages = ", ".join(f"avg(octet_length({c}))" for c in profile)
    profile_query = text(
        f"SELECT kind, recorded_at >= :t AS written, count(*), {averages}, avg(pg_column_size(p.*)) "  # noqa: S608
        "FROM profile_entries p GROUP BY 1, 2 ORDER BY 2, 1"
    )
    doc_averages = ", ".join(f"avg(octet_length({c}))" for c in document)
    document_query = text(
        f"SELECT deposited_at >= :t AS written, count(*), {doc_averages}, avg(pg_column_size(d.*)) "  # noqa: S608
        "FROM documents d GROUP BY 1 ORDER BY 1"
    )
    version_query = text(
        "SELECT d.deposited_at >= :t, avg(octet_length(v.resource_ct)) FROM document_versions v "
        "JOIN documents d ON d.id = v.document_id GROUP BY 1"
    )
    with engine.connect() as connection:
        for kind, written, n, *sizes in connection.execute(profile_query, {"t": loads_began}):
            named = ", ".join(f"{c} {s:.0f}" for c, s in zip([*profile, "row"], sizes, strict=True) if s is not None)
            rows.append(("profile", kind, "written over FHIR" if written else "seeded", f"{n}", named))
        version_sizes: dict[bool, float] = {}
        if versions:
            version_sizes = {w: size for w, size in connection.execute(version_query, {"t": loads_began})}
        for written, n, *sizes in connection.execute(document_query, {"t": loads_began}):
            names = [*document, "row", "document_versions.resource_ct"]
            sizes.append(version_sizes.get(written))
            named = ", ".join(f"{c} {s:.0f}" for c, s in zip(names, sizes, strict=True) if s is not None)
            rows.append(("document", "", "written over FHIR" if written else "seeded", f"{n}", named))
    return rows


def prepare(url: str, work: Path, patients_wanted: int) -> dict[str, object]:
    """A migrated, seeded database at `url` and what a server and locust need to use it (this checkout's code)."""
    master, signing = generate_master_key_text(), generate_master_key_text()
    migrate(url)
    settings = Settings(master_key=SecretStr(master), token_signing_key=SecretStr(signing), data_dir=work)
    engine = make_engine(url)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(master, source="bench"))
    began = time.perf_counter()
    seed_population(runtime.unit_of_work, patients=patients_wanted, documents_per_patient=5)
    with runtime.unit_of_work() as ctx:
        patients = [str(p) for p in ctx.session.scalars(select(Record.patient_id))]
    seed_weights(runtime, patients)
    with runtime.unit_of_work() as ctx:
        for patient in patients:
            grant_authorisation(ctx, uuid.UUID(patient), DOCTOR_RPPS, scope="read_write", via="patient")
    print(f"seeded {len(patients)} records and authorised the doctor in {time.perf_counter() - began:.0f} s")
    token = Web.issuer_for(settings).for_professional(rpps=DOCTOR_RPPS, profession="10")
    costs = statements_per_request(runtime, token, patients)
    print("SQL statements per request: " + ", ".join(f"{name} {n:.1f}" for name, n in costs.items()))
    engine.dispose()
    return {"url": url, "master": master, "signing": signing, "token": token, "patients": patients, "costs": costs}


def server_env(state: dict[str, Any], work: Path) -> dict[str, str]:
    """The environment `carnet serve` and locust run in, for the database `prepare` made."""
    patients: list[str] = state["patients"]
    return {
        **os.environ,
        "CARNET_DATABASE_URL": state["url"],
        "CARNET_MASTER_KEY": state["master"],
        "CARNET_TOKEN_SIGNING_KEY": state["signing"],
        "CARNET_DATA_DIR": str(work),
        "CARNET_BENCH_TOKEN": state["token"],
        "CARNET_BENCH_PATIENTS": ",".join(patients[:1000]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--prepare", type=Path, help="only seed --database-url and write what serving needs here")
    parser.add_argument("--database-url", help="with --prepare: the (empty) database to seed")
    args = parser.parse_args()

    if args.prepare is not None:  # bench_fhir_paired runs this in each of the two checkouts it compares
        state = prepare(args.database_url, args.prepare.parent, args.patients)
        args.prepare.write_text(json.dumps(state))
        return
    work = Path(tempfile.mkdtemp(prefix="carnet-bench-fhir-"))
    url = ensure_database(start_embedded_server(work / "pgdata"), "bench_fhir", recreate=True)
    state = prepare(url, work, args.patients)
    costs: dict[str, float] = state["costs"]  # type: ignore[assignment]
    loads_began = datetime.now(UTC)

    carnet_port, hello_port = free_port(), free_port()
    env = server_env(state, work)
    serve = ["carnet", "serve", "--port", str(carnet_port)]
    server_log = open(work / "carnet-serve.log", "w")  # noqa: SIM115 (open while the server runs)
    carnet = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=server_log)  # noqa: S603
    hello = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(hello_port), "--log-level", "info"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{carnet_port}/health")
        wait_for(f"http://127.0.0.1:{hello_port}/hello")
        results = {}
        for name in LOADS:  # one at a time; the profile is searched before the writes add to it
            port = hello_port if name == "hello" else carnet_port
            results[name] = run_locust(f"http://127.0.0.1:{port}", name, args.users, args.seconds, work, env)
    finally:
        carnet.terminate()
        hello.terminate()
        carnet.wait(10)
        hello.wait(10)
        server_log.close()
    floor = results["hello"]["rps"]
    print(f"{args.patients} records, {args.users} users, {args.seconds} s each, one uvicorn worker per server")
    print("| load | requests | failures | req/s | p50 (ms) | p99 (ms) | req/s vs hello-world | statements |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ratio = r["rps"] / floor if floor else 0.0
        counts = f"{r['requests']:.0f} | {r['failures']:.0f}"
        statements = f"{costs[name]:.1f}" if name in costs else "n/a"
        print(f"| {name} | {counts} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} | {ratio:.3f} | {statements} |")
    engine = make_engine(url)
    print("stored bytes per entry (averages; octet_length of each encrypted column, pg_column_size of the row):")
    print("| table | kind | entries | count | bytes |")
    print("|---|---|---|---|---|")
    for row in stored_bytes(engine, loads_began):
        print("| " + " | ".join(row) + " |")
    engine.dispose()


if __name__ == "__main__":
    main()
