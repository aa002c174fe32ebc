"""Server time of each page of the patient's space, with 10,000 records in the database.

    uv run python -m bench.bench_portal --patients 10000

Seeds N synthetic records (5 documents each) into a fresh database on the embedded server, activates the
portal accounts of a sample of them (TOTP, as a patient does at /patient/activate) and signs each in through
the portal's own forms. Then, for every page of `PAGES`, each signed-in patient asks for it in turn, one
request at a time, through the application in-process (Starlette's TestClient: no network, no other load),
and the bench prints p50 and p99 of the time each answer took and the SQL statements one page costs.
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import Engine, event, select

from carnet.access.actor import Actor
from carnet.app import create_app
from carnet.cli_identity import ensure_simulated_card
from carnet.identity import accounts
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker, migrate
from carnet.kit.embedded import ensure_database, start_embedded_server
from carnet.records.documents import list_documents
from carnet.records.models import Record
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from carnet.settings import Settings
from carnet.synthetic import seed_population

PASSWORD = "tilleul-ardoise-bench-27"  # noqa: S105 (the bench's throwaway accounts)
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
# Every page of the patient's space a signed-in patient reads (GET), by the path the portal serves it at.
# `{document}` is the patient's latest document.
PAGES = (
    "/patient",
    "/patient/documents",
    "/patient/documents/{document}",
    "/patient/profile",
    "/patient/privacy",
    "/patient/history",
    "/patient/notifications",
    "/patient/account",
    "/patient/record",
)
# What a patient downloads rather than reads: timed the same way, reported apart from the pages' target.
DOWNLOADS = ("/patient/documents/{document}/content", "/patient/record/summary.pdf", "/patient/record/bundle")


@dataclass(frozen=True)
class Patient:
    patient_id: uuid.UUID
    login: str
    totp: pyotp.TOTP
    document: uuid.UUID


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def activated(runtime: Runtime, patient_id: uuid.UUID, index: int) -> Patient:
    """The patient's account, activated with a TOTP second factor as the activation page does it."""
    with runtime.unit_of_work() as ctx:
        record = ctx.session.get(Record, patient_id)
        if record is None or record.ins is None:
            raise SystemExit(f"no living record {patient_id}")
        ins = record.ins
    card = ensure_simulated_card(runtime, ins)
    login = f"bench-{index:05d}"
    with runtime.unit_of_work() as ctx:
        code = accounts.issue_activation_code(ctx, patient_id, issued_by="bench")
        form = accounts.Activation(
            nir=ins[:13],
            card_serial=card.serial,
            code=code.code,
            login=login,
            password=PASSWORD,
            second_factor="totp",
        )
        step = accounts.activate(ctx, form, address="127.0.0.1")
    if step.refusal is not None or step.totp_uri is None:
        raise SystemExit(f"activation refused: {step.refusal}")
    totp = pyotp.parse_uri(step.totp_uri)
    if not isinstance(totp, pyotp.TOTP):
        raise SystemExit("activation gave no TOTP key")
    with runtime.unit_of_work() as ctx:
        latest = list_documents(ctx, Actor.patient(patient_id), patient_id, DocumentQuery(limit=1)).items
    if not latest:
        raise SystemExit(f"no document in {patient_id}")
    return Patient(patient_id, login, totp, latest[0].id)


def _form_token(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    if found is None:
        raise SystemExit(f"{page.url}: no form token in the page ({page.status_code})")
    return found.group(1)


def signed_in(client: TestClient, patient: Patient) -> None:
    """Sign in through the portal's forms (password, then the authenticator's code); the cookie stays."""
    token = _form_token(client.get("/patient/sign-in"))
    first = client.post(
        "/patient/sign-in",
        data={"csrf_token": token, "login": patient.login, "password": PASSWORD, "next": "/patient"},
        follow_redirects=False,
    )
    if first.status_code != 303:
        raise SystemExit(f"sign-in refused: {first.status_code}")
    token = _form_token(client.get(first.headers["location"]))
    second = client.post(
        "/patient/sign-in/code",
        data={"csrf_token": token, "code": patient.totp.now(), "next": "/patient"},
        follow_redirects=False,
    )
    if second.status_code != 303:
        raise SystemExit(f"second factor refused: {second.status_code}")


def measure(
    engine: Engine, client: TestClient, jars: list[tuple[httpx.Cookies, Patient]], page: str, rounds: int
) -> tuple[list[float], float]:
    """Each patient asks for the page `rounds` times, one request at a time: the times (ms) and statements."""
    statements = 0

    def count(*_args: object) -> None:
        nonlocal statements
        statements += 1

    for jar, patient in jars:  # a first call compiles the page's statements and template
        client.cookies = jar
        path = page.format(document=patient.document)
        warm = client.get(path)
        if warm.status_code != 200:
            raise SystemExit(f"{path}: {warm.status_code} {warm.text[:300]}")
    times: list[float] = []
    event.listen(engine, "before_cursor_execute", count)
    for _ in range(rounds):
        for jar, patient in jars:
            client.cookies = jar
            path = page.format(document=patient.document)
            began = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - began) * 1000)
            if answer.status_code != 200:
                raise SystemExit(f"{path}: {answer.status_code}")
    event.remove(engine, "before_cursor_execute", count)
    return times, statements / len(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--signed-in", type=int, default=20, help="patients signed in and reading pages")
    parser.add_argument("--rounds", type=int, default=25, help="requests per page per signed-in patient")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="carnet-bench-portal-"))
    master, signing = generate_master_key_text(), generate_master_key_text()
    url = ensure_database(start_embedded_server(work / "pgdata"), "bench_portal", recreate=True)
    migrate(url)
    settings = Settings(master_key=SecretStr(master), token_signing_key=SecretStr(signing), data_dir=work)
    engine = make_engine(url)
    runtime = Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(master, source="bench"))
    began = time.perf_counter()
    seed_population(runtime.unit_of_work, patients=args.patients, documents_per_patient=5)
    with runtime.unit_of_work() as ctx:
        every = list(ctx.session.scalars(select(Record.patient_id).order_by(Record.patient_id)))
    step = max(1, len(every) // args.signed_in)
    patients = [activated(runtime, p, i) for i, p in enumerate(every[::step][: args.signed_in])]
    print(f"seeded {len(every)} records, activated {len(patients)} accounts in {time.perf_counter() - began:.0f} s")

    # One client (one event loop, as a server has), each patient's cookies put in before their request.
    with TestClient(create_app(runtime), base_url="https://carnet.test") as client:
        jars = []
        for patient in patients:
            client.cookies.clear()
            signed_in(client, patient)
            jars.append((httpx.Cookies(client.cookies), patient))
        print("| page | requests | p50 (ms) | p99 (ms) | mean (ms) | statements per page |")
        print("|---|---|---|---|---|---|")
        for path in (*PAGES, *DOWNLOADS):
            times, statements = measure(engine, client, jars, path, args.rounds)
            label = f"`{path}` (download)" if path in DOWNLOADS else f"`{path}`"
            print(
                f"| {label} | {len(times)} | {statistics.median(times):.1f} | {percentile(times, 0.99):.1f} "
                f"| {statistics.fmean(times):.1f} | {statements:.1f} |"
            )
    engine.dispose()


if __name__ == "__main__":
    main()
