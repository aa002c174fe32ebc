"""Two commits of Carnet under the same FHIR loads, in alternated short slices, so a shared machine's noise
falls on both alike.

    uv run python -m bench.bench_fhir_paired --before ../carnet-before --patients 2000 --rounds 6 --seconds 10

`--before` is a second checkout of Carnet (a git worktree at the older commit, its own `.venv`, with this
checkout's bench/ files copied in); this checkout is "after". On one embedded PostgreSQL server, each side
seeds its own database with its own code (`bench_fhir --prepare`: the same population, weights and doctor),
then both sides' `carnet serve` (one uvicorn worker each) and the hello-world run at once, idle but for the
load of the moment. Each round runs every load of bench_fhir against each side for `--seconds`, the side that
goes first alternating between rounds; only one load runs at any time. The bench prints, per load, the
requests per second of each side over all rounds, the ratio after / before, and the lowest and highest
ratio of a single round, and the hello-world's rate per round to show how much the machine moved.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.bench_fhir import DOCTOR_RPPS, LOADS, free_port, run_locust, server_env, wait_for
from carnet.kit.embedded import ensure_database, start_embedded_server

HERE = Path(__file__).resolve().parent.parent


def prepared(checkout: Path, url: str, work: Path, patients: int) -> dict[str, Any]:
    """The side's database seeded by the side's own code."""
    state_file = work / "state.json"
    command = [
        str(checkout / ".venv" / "bin" / "python"), "-m", "bench.bench_fhir",
        "--prepare", str(state_file), "--database-url", url, "--patients", str(patients),
    ]  # fmt: skip
    subprocess.run(command, check=True, cwd=checkout, env=server_env_base())  # noqa: S603
    state: dict[str, Any] = json.loads(state_file.read_text())
    return state


def fresh_token(checkout: Path, env: dict[str, str]) -> str:
    """A new doctor's token from the side's own `carnet token` (a token outlives a few minutes only)."""
    command = [str(checkout / ".venv" / "bin" / "carnet"), "token", "--rpps", DOCTOR_RPPS, "--profession", "10"]
    printed = subprocess.run(command, check=True, cwd=checkout, env=env, capture_output=True, text=True).stdout  # noqa: S603
    return printed.strip().splitlines()[-1].strip()


def server_env_base() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CARNET_")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="a checkout of the older commit")
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="carnet-bench-paired-"))
    server = start_embedded_server(work / "pgdata")
    sides = {"before": args.before.resolve(), "after": HERE}
    states, envs, ports, processes = {}, {}, {}, []
    for name, checkout in sides.items():
        (work / name).mkdir()
        url = ensure_database(server, f"bench_paired_{name}", recreate=True)
        states[name] = prepared(checkout, url, work / name, args.patients)
        envs[name] = server_env(states[name], work / name)
    hello_port = free_port()
    try:
        for name, checkout in sides.items():
            ports[name] = free_port()
            serve = [str(checkout / ".venv" / "bin" / "carnet"), "serve", "--port", str(ports[name])]
            log = (work / name / "carnet-serve.log").open("w")
            processes.append(
                subprocess.Popen(serve, cwd=checkout, env=envs[name], stdout=subprocess.DEVNULL, stderr=log)  # noqa: S603
            )
        processes.append(
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "uvicorn", "bench.hello:app", "--port", str(hello_port)],
                env=envs["after"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for name in sides:
            wait_for(f"http://127.0.0.1:{ports[name]}/health")
        wait_for(f"http://127.0.0.1:{hello_port}/hello")
        figures: dict[str, dict[str, list[dict[str, float]]]] = {n: {load: [] for load in LOADS} for n in sides}
        hello: list[float] = []
        for round_number in range(args.rounds):
            order = ["before", "after"] if round_number % 2 == 0 else ["after", "before"]
            for name, checkout in sides.items():
                envs[name]["CARNET_BENCH_TOKEN"] = fresh_token(checkout, envs[name])
            out = work / f"round-{round_number}"
            out.mkdir()
            hello.append(
                run_locust(f"http://127.0.0.1:{hello_port}", "hello", args.users, args.seconds, out, envs["after"])[
                    "rps"
                ]
            )
            for load in LOADS[1:]:
                for name in order:
                    host = f"http://127.0.0.1:{ports[name]}"
                    side_out = out / name
                    side_out.mkdir(exist_ok=True)
                    figures[name][load].append(run_locust(host, load, args.users, args.seconds, side_out, envs[name]))
            print(f"round {round_number + 1}/{args.rounds} done (hello-world {hello[-1]:.0f} req/s)", flush=True)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
    report(args, states, figures, hello)


def report(
    args: argparse.Namespace,
    states: dict[str, dict[str, Any]],
    figures: dict[str, dict[str, list[dict[str, float]]]],
    hello: list[float],
) -> None:
    print(
        f"{args.patients} records, {args.users} users, {args.rounds} rounds of {args.seconds} s per load and side, "
        "one uvicorn worker per server"
    )
    print(f"hello-world per round (req/s): {', '.join(f'{h:.0f}' for h in hello)}")
    print("| load | before: requests, failures, req/s | after: requests, failures, req/s | after / before "
          "| lowest and highest round | statements before / after |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for load in LOADS[1:]:
        cells = []
        totals = {}
        for name in ("before", "after"):
            runs = figures[name][load]
            requests = sum(r["requests"] for r in runs)
            failures = sum(r["failures"] for r in runs)
            totals[name] = sum(r["rps"] for r in runs) / len(runs)
            cells.append(f"{requests:.0f}, {failures:.0f}, {totals[name]:.1f}")
        per_round = [a["rps"] / b["rps"] for a, b in zip(figures["after"][load], figures["before"][load], strict=True)]
        costs = [states[name]["costs"].get(load) for name in ("before", "after")]
        print(
            f"| {load} | {cells[0]} | {cells[1]} | {totals['after'] / totals['before']:.2f} "
            f"| {min(per_round):.2f} to {max(per_round):.2f} (median {statistics.median(per_round):.2f}) "
            f"| {costs[0]} / {costs[1]} |"
        )


if __name__ == "__main__":
    main()
