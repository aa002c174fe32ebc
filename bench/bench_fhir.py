"""Throughput and latency of the FHIR API under load, against `carnet serve`, beside a hello-world floor.

    uv run --group bench python -m bench.bench_fhir --patients 2000 --users 16 --seconds 30

Seeds N synthetic patients (5 documents each) on the embedded server, authorises one doctor on all of
them, then starts `carnet serve` and a bare FastAPI hello-world (bench/hello.py), each a uvicorn process
with one worker and uvicorn's access log (as `carnet serve` runs it), and runs locust headless against
each in turn: DocumentReference searches (a random patient's first page), MHD document bundles (one
document each), and the hello-world. It prints requests per second, p50 and p99 for each, and the ratio
of each to the hello-world.
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import event, select
from tests.fhir.documents import bundle

from carnet.access.service import grant_authorisation
from carnet.api.deps import Web
from carnet.app import create_app
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker, migrate
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.records.models import Record
from carnet.runtime import Runtime
from carnet.settings import Settings
from carnet.synthetic import seed_population

DOCTOR_RPPS = "10000000017"


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
    subprocess.run(command, check=False, env=env, stdout=subprocess.DEVNULL)  # noqa: S603 (our own command line)
    with open(f"{prefix}_stats.csv", newline="") as stats:
        row = next(r for r in csv.DictReader(stats) if r["Name"] == label)
    return {
        "requests": float(row["Request Count"]),
        "failures": float(row["Failure Count"]),
        "rps": float(row["Requests/s"]),
        "p50": float(row["50%"]),
        "p99": float(row["99%"]),
    }


def statements_per_request(runtime: Runtime, token: str, patients: list[str]) -> dict[str, float]:
    """SQL statements one search and one bundle cost, counted in-process (BEGIN and COMMIT are not statements)."""
    counted = 0

    def count(*_args: object) -> None:
        nonlocal counted
        counted += 1

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}
    calls: dict[str, Callable[[TestClient, str], object]] = {
        "search": lambda c, p: c.get(f"/fhir/DocumentReference?patient={p}&_count=20", headers=headers),
        "bundle": lambda c, p: c.post("/fhir", json=bundle(p, count=1), headers=headers),
    }
    figures = {}
    with TestClient(create_app(runtime)) as client:
        for name, call in calls.items():
            call(client, patients[0])  # warm: the first call of a kind loads the matrix and compiles statements
            event.listen(runtime.engine, "before_cursor_execute", count)
            counted = 0
            for patient in patients[1:21]:
                call(client, patient)
            event.remove(runtime.engine, "before_cursor_execute", count)
            figures[name] = counted / 20
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="carnet-bench-fhir-"))
    master, signing = generate_master_key_text(), generate_master_key_text()
    url = ensure_database(start_embedded_server(work / "pgdata"), "bench_fhir", recreate=True)
    migrate(url)
    settings = Settings(master_key=SecretStr(master), token_signing_key=SecretStr(signing), data_dir=work)
    engine = make_engine(url)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(master, source="bench"))
    began = time.perf_counter()
    seed_population(runtime.unit_of_work, patients=args.patients, documents_per_patient=5)
    with runtime.unit_of_work() as ctx:
        patients = [str(p) for p in ctx.session.scalars(select(Record.patient_id))]
        for patient in patients:
            grant_authorisation(ctx, uuid.UUID(patient), DOCTOR_RPPS, scope="read_write", via="patient")
    print(f"seeded {len(patients)} records and authorised the doctor in {time.perf_counter() - began:.0f} s")
    token = Web.issuer_for(settings).for_professional(rpps=DOCTOR_RPPS, profession="10")
    costs = statements_per_request(runtime, token, patients)
    print(f"SQL statements per request: search {costs['search']:.1f}, one-document bundle {costs['bundle']:.1f}")
    engine.dispose()

    carnet_port, hello_port = free_port(), free_port()
    env = {
        **os.environ,
        "CARNET_DATABASE_URL": url,
        "CARNET_MASTER_KEY": master,
        "CARNET_TOKEN_SIGNING_KEY": signing,
        "CARNET_DATA_DIR": str(work),
        "CARNET_BENCH_TOKEN": token,
        "CARNET_BENCH_PATIENTS": ",".join(patients[:1000]),
    }
    serve = ["carnet", "serve", "--port", str(carnet_port)]
    carnet = subprocess.Popen(serve, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    hello = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(hello_port), "--log-level", "info"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{carnet_port}/health")
        wait_for(f"http://127.0.0.1:{hello_port}/hello")
        results = {
            "hello": run_locust(f"http://127.0.0.1:{hello_port}", "hello", args.users, args.seconds, work, env),
            "search": run_locust(f"http://127.0.0.1:{carnet_port}", "search", args.users, args.seconds, work, env),
            "bundle": run_locust(f"http://127.0.0.1:{carnet_port}", "bundle", args.users, args.seconds, work, env),
        }
    finally:
        carnet.terminate()
        hello.terminate()
        carnet.wait(10)
        hello.wait(10)
    floor = results["hello"]["rps"]
    print(f"{args.patients} records, {args.users} users, {args.seconds} s each, one uvicorn worker per server")
    print("| load | requests | failures | req/s | p50 (ms) | p99 (ms) | req/s vs hello-world |")
    print("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        ratio = r["rps"] / floor if floor else 0.0
        counts = f"{r['requests']:.0f} | {r['failures']:.0f}"
        print(f"| {name} | {counts} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p99']:.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
