"""Audit appends from concurrent writers: on different patients' chains, and all on one chain.

    uv run python -m bench.bench_audit --seconds 10

Each writer appends one entry per transaction (what one request does) for a fixed time. Chains are per
patient, so writers on different patients should not wait on each other; on one shared chain they queue
on its head.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from carnet.audit.chain import AuditEvent
from carnet.audit.service import write_events
from carnet.kit import clock
from carnet.kit.db import make_engine, make_sessionmaker, migrate, transaction
from carnet.kit.embedded import ensure_database, start_embedded_server


def event(chain: uuid.UUID) -> AuditEvent:
    return AuditEvent(
        chain_id=chain,
        at=clock.now(),
        actor_kind="professional",
        actor_ref="10000000018",
        profession="10",
        organisation="750000010",
        mode="normal",
        action="document.read",
        subject=f"document:{uuid.uuid4()}",
        allowed=True,
        reason="authorised",
        source="127.0.0.1",
        request_id=None,
    )


def run(sessions: sessionmaker[Session], writers: int, shared: bool, seconds: float) -> tuple[int, float]:
    chains = [uuid.uuid4()] * writers if shared else [uuid.uuid4() for _ in range(writers)]
    counts = [0] * writers
    deadline = time.perf_counter() + seconds

    def writer(index: int) -> None:
        while time.perf_counter() < deadline:
            with transaction(sessions) as session:
                write_events(session, [event(chains[index])])
            counts[index] += 1

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pgdata", type=Path, default=Path(tempfile.gettempdir()) / "carnet-bench" / "pgdata")
    args = parser.parse_args()
    url = ensure_database(start_embedded_server(args.pgdata), "bench_audit", recreate=True)
    migrate(url)
    engine = make_engine(url, pool_size=10)
    sessions = make_sessionmaker(engine)
    print("writers  chains      appends/s")
    for shared in (False, True):
        for writers in (1, 2, 4, 8):
            appended, elapsed = run(sessions, writers, shared, args.seconds)
            label = "one shared" if shared else "one each"
            print(f"{writers:>7}  {label:<10}  {appended / elapsed:>9.0f}")
    engine.dispose()


if __name__ == "__main__":
    main()
