"""Deposits per second and the latency of listing one patient's documents, through the service layer.

    uv run python -m bench.bench_records --patients 10000

Seeds N synthetic patients (5 documents each by default) into a fresh database on the embedded server
(or CARNET_DATABASE_URL), then measures:
- seeding: records and documents per second, and the process's resident memory along the way;
- deposits: single-document transactions into random records, as a professional's software would make;
- listing: the first page (20) of a random patient's documents as that patient, p50/p99 and queries per call.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psutil
from pydantic import SecretStr
from sqlalchemy import Engine, event, select

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.audit import service as audit_service
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker, migrate
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.kit.errors import ConfigurationError
from carnet.records.documents import deposit_document, list_documents
from carnet.records.keys import verify_master_keys
from carnet.records.models import Record
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from carnet.settings import Settings
from carnet.synthetic import seed_population, synthetic_document


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure_lists(
    runtime: Runtime,
    engine: Engine,
    sample: list[uuid.UUID],
    actor_for: Callable[[uuid.UUID], Actor],
    query: DocumentQuery,
) -> tuple[list[float], float]:
    """Latency of each list call, and SQL statements per call (BEGIN and COMMIT are not statements)."""
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    event.listen(engine, "before_cursor_execute", count)
    latencies = []
    try:
        for patient_id in sample:
            began = time.perf_counter()
            with runtime.unit_of_work() as ctx:
                page = list_documents(ctx, actor_for(patient_id), patient_id, query)
            latencies.append(time.perf_counter() - began)
            if not page.items:
                raise SystemExit(f"patient {patient_id} shows no documents: the seeding is incomplete")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return latencies, statements / len(sample)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--documents-per-patient", type=int, default=5)
    parser.add_argument("--deposits", type=int, default=2_000)
    parser.add_argument("--lists", type=int, default=2_000)
    parser.add_argument("--pgdata", type=Path, default=Path(tempfile.gettempdir()) / "carnet-bench" / "pgdata")
    parser.add_argument("--reuse", action="store_true", help="keep a database seeded by an earlier run")
    args = parser.parse_args()

    key_file = args.pgdata.parent / f"bench-master-{args.patients}.key"
    if not (args.reuse and key_file.exists()):
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(generate_master_key_text())
    key_text = key_file.read_text().strip()
    settings = Settings(master_key=SecretStr(key_text))
    maintenance = start_embedded_server(args.pgdata)
    url = ensure_database(maintenance, f"bench_{args.patients}", recreate=not args.reuse)
    migrate(url)
    engine = make_engine(url)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(key_text, source="bench"))
    try:
        with runtime.unit_of_work() as ctx:
            verify_master_keys(ctx.session, runtime.keys)
    except ConfigurationError as exc:
        raise SystemExit(f"{exc.message} Run once without --reuse to seed with a kept key.") from None
    process = psutil.Process()
    rss: list[int] = []

    def on_batch(_n: int) -> None:
        rss.append(process.memory_info().rss)

    started = time.perf_counter()
    report = seed_population(
        runtime.unit_of_work,
        patients=args.patients,
        documents_per_patient=args.documents_per_patient,
        batch_size=200,
        on_batch=on_batch,
    )
    seeding = time.perf_counter() - started
    documents = report.created * args.documents_per_patient
    if report.created:
        print(
            f"seeded {report.created} records, {documents} documents in {seeding:.1f} s: "
            f"{report.created / seeding:.0f} records/s, {documents / seeding:.0f} documents/s"
        )
    else:
        print(f"reused the {report.skipped} records seeded by an earlier run (checked in {seeding:.1f} s)")
    mib = [value / 2**20 for value in rss]
    print(
        f"resident memory while seeding (MiB): first batch {mib[0]:.0f}, middle {mib[len(mib) // 2]:.0f}, "
        f"last {mib[-1]:.0f}, max {max(mib):.0f}"
    )

    with runtime.unit_of_work() as ctx:
        patients: list[uuid.UUID] = list(ctx.session.scalars(select(Record.patient_id)))
    rng = random.Random(7)
    system = Actor.system("bench")

    latencies = []
    started = time.perf_counter()
    for _ in range(args.deposits):
        doc = synthetic_document(rng, "Bench Patient")
        began = time.perf_counter()
        with runtime.unit_of_work() as ctx:
            deposit_document(ctx, system, rng.choice(patients), doc.meta, doc.content)
        latencies.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started
    print(
        f"deposits: {args.deposits / elapsed:.0f}/s in single-document transactions, "
        f"p50 {percentile(latencies, 0.5) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms"
    )

    query = DocumentQuery()
    sample = [rng.choice(patients) for _ in range(args.lists)]
    doctor = Actor.professional("10000000018", "10")
    with runtime.unit_of_work() as ctx:
        for patient_id in set(sample):
            grant_authorisation(ctx, patient_id, doctor.ref, scope="read_write", via="patient")
    write_trail = audit_service.write_events
    for label, actor_for, trail in (
        ("the patient", Actor.patient, True),
        ("an authorised doctor", lambda _patient_id: doctor, True),
        ("the patient, trail not written (for comparison only)", Actor.patient, False),
    ):
        # The comparison switches the trail off in this process only, to measure what it costs a read.
        audit_service.write_events = write_trail if trail else lambda _session, _events: 0  # type: ignore[assignment]
        try:
            latencies, statements = measure_lists(runtime, engine, sample, actor_for, query)
        finally:
            audit_service.write_events = write_trail
        print(
            f"list one patient's documents as {label} (first page of {query.limit}): "
            f"p50 {percentile(latencies, 0.5) * 1000:.2f} ms, p99 {percentile(latencies, 0.99) * 1000:.2f} ms, "
            f"mean {statistics.mean(latencies) * 1000:.2f} ms, {statements:.1f} SQL statements per call"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
