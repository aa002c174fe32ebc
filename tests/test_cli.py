"""The `carnet` command as an operator runs it: a real process, a real database, readable failures."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pyotp
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from carnet.access.actor import Actor
from carnet.access.models import MatrixVersion
from carnet.access.service import represented
from carnet.identity import accounts
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine
from carnet.kit.embedded import database_url_for, ensure_database
from carnet.records import repository as records_repository
from carnet.records.models import Document, Record
from carnet.runtime import start_runtime
from carnet.settings import Settings
from carnet.synthetic import synthetic_patient

CARNET = shutil.which("carnet") or "carnet"


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CARNET, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def counts(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            records = connection.scalar(select(func.count()).select_from(Record)) or 0
            documents = connection.scalar(select(func.count()).select_from(Document)) or 0
            return records, documents
    finally:
        engine.dispose()


def test_seed_creates_a_population_and_resumes(fresh_database: Callable[[], str], base_env: dict[str, str]) -> None:
    url = fresh_database()
    env = {**base_env, "CARNET_DATABASE_URL": url, "CARNET_MASTER_KEY": generate_master_key_text()}
    first = run(env, "seed", "--patients", "30", "--documents-per-patient", "2", "--batch-size", "7")
    assert first.returncode == 0, first.stderr
    assert "Created 30 records; 0 were already present." in first.stdout
    assert "30/30" in first.stderr  # the progress bar
    again = run(env, "seed", "--patients", "40", "--documents-per-patient", "2")
    assert "Created 10 records; 30 were already present." in again.stdout
    assert counts(url) == (40, 80)
    assert run(env, "records", "destroy-due").stdout.strip() == "Destroyed 0 records."
    purged = run(env, "records", "purge-destroyed").stdout.strip()
    assert purged == "Purged 0 destroyed records (0 rows removed); their audit trail is kept."
    pruned = run(env, "records", "prune-reimbursements").stdout
    assert pruned.startswith("Removed 0 reimbursement lines of care before ")
    status = run({**env, "COLUMNS": "200"}, "keys", "status").stdout
    row = next(line for line in status.splitlines() if "wraps new keys" in line)
    assert re.search(r"\b40\b", row), status  # the 40 records' data keys
    spare = generate_master_key_text()
    both = run({**env, "COLUMNS": "200", "CARNET_MASTER_KEY": f"{env['CARNET_MASTER_KEY']},{spare}"}, "keys", "status")
    assert both.returncode == 0 and "Wrapping nothing, can be removed from the configuration" in both.stdout


def test_start_refuses_without_a_master_key(fresh_database: Callable[[], str], base_env: dict[str, str]) -> None:
    result = run({**base_env, "CARNET_DATABASE_URL": fresh_database()}, "serve")
    assert result.returncode == 2
    assert "Carnet cannot start: No master key" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("key", "fragment"),
    [("not-base64!", "not valid base64"), ("c2hvcnQ=", "32 bytes")],
)
def test_start_refuses_a_malformed_master_key(
    fresh_database: Callable[[], str], base_env: dict[str, str], key: str, fragment: str
) -> None:
    result = run({**base_env, "CARNET_DATABASE_URL": fresh_database(), "CARNET_MASTER_KEY": key}, "serve")
    assert result.returncode == 2 and fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_start_refuses_the_wrong_master_key(fresh_database: Callable[[], str], base_env: dict[str, str]) -> None:
    url = fresh_database()
    right = generate_master_key_text()
    env = {**base_env, "CARNET_DATABASE_URL": url}
    assert run({**env, "CARNET_MASTER_KEY": right}, "seed", "--patients", "2").returncode == 0
    wrong = run({**env, "CARNET_MASTER_KEY": generate_master_key_text()}, "serve")
    assert wrong.returncode == 2
    assert "not the one this database's data keys are wrapped with" in wrong.stderr
    assert parse_master_keys(right, source="t").current().key_id in wrong.stderr
    assert right not in wrong.stderr + wrong.stdout  # key ids are shown, never keys
    assert "Traceback" not in wrong.stderr


def test_key_file_works_and_a_missing_one_is_named(
    fresh_database: Callable[[], str], base_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**base_env, "CARNET_DATABASE_URL": fresh_database(), "CARNET_MASTER_KEY_FILE": str(tmp_path / "k")}
    missing = run(env, "seed", "--patients", "1")
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    (tmp_path / "k").write_text(run(base_env, "keys", "generate").stdout)
    assert run(env, "seed", "--patients", "1").returncode == 0


def test_start_refuses_an_unmigrated_or_unreachable_database(maintenance_url: str, base_env: dict[str, str]) -> None:
    env = {**base_env, "CARNET_MASTER_KEY": generate_master_key_text()}
    empty = ensure_database(maintenance_url, "carnet_unmigrated", recreate=True)
    result = run({**env, "CARNET_DATABASE_URL": empty}, "serve")
    assert result.returncode == 2 and "run `carnet migrate` first" in result.stderr
    migrated = run({**env, "CARNET_DATABASE_URL": empty}, "migrate")
    assert migrated.returncode == 0 and "up to date" in migrated.stdout
    nowhere = database_url_for("postgresql://carnet:@127.0.0.1:1/x", "x")
    unreachable = run({**env, "CARNET_DATABASE_URL": nowhere}, "serve")
    assert unreachable.returncode == 2 and "Cannot reach the database" in unreachable.stderr
    assert "Traceback" not in result.stderr + unreachable.stderr


def test_demo_is_refused_in_production(base_env: dict[str, str]) -> None:
    env = {**base_env, "CARNET_ENV": "production", "CARNET_DATABASE_URL": "postgresql://x:@127.0.0.1:1/x"}
    result = run(env, "demo", "--no-serve")
    assert result.returncode == 2 and "does not run in production" in result.stderr


def test_production_requires_an_external_database(base_env: dict[str, str]) -> None:
    result = run({**base_env, "CARNET_ENV": "production"}, "serve")
    assert result.returncode == 2 and "CARNET_DATABASE_URL is required in production" in result.stderr


def test_demo_creates_its_key_seeds_and_tells_how_to_start(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    env = {**base_env, "CARNET_DATABASE_URL": fresh_database()}
    result = run(env, "demo", "--patients", "5", "--no-serve")
    assert result.returncode == 0, result.stderr
    assert Path(base_env["CARNET_DATA_DIR"], "dev-master.key").stat().st_mode & 0o077 == 0
    ins, identity = synthetic_patient(1, 2)  # the first two have their accounts made; the third activates
    handed = next(line for line in result.stdout.splitlines() if identity.family_name in line)
    assert f"activate at /patient/activate with NIR {ins[:13]}, card SIM" in handed
    assert re.search(r"code [A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$", handed)  # a real, usable activation code
    assert "Demo data: 5 new records" in result.stdout
    assert "Demo data: 0 new records, 5 already there." in run(env, "demo", "--patients", "5", "--no-serve").stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_answers_over_http(fresh_database: Callable[[], str], base_env: dict[str, str]) -> None:
    port = free_port()
    env = {**base_env, "CARNET_DATABASE_URL": fresh_database(), "CARNET_MASTER_KEY": generate_master_key_text()}
    server = subprocess.Popen([CARNET, "serve", "--port", str(port)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()["info"]["title"] == "Carnet"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_operators_change_the_matrix_and_it_keeps_who_and_why(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    url = fresh_database()
    env = {**base_env, "CARNET_DATABASE_URL": url, "CARNET_MASTER_KEY": generate_master_key_text()}
    shown = run(env, "matrix", "show")
    assert "Access matrix version 1" in shown.stdout
    assert any(line.split()[:1] == ["21"] and line.endswith("10 11 42 43 44 45") for line in shown.stdout.splitlines())
    reason = "Contrast agent checks at the counter"
    changed = run(env, "matrix", "allow", "--profession", "21", "--class", "31", "--by", "ops-42", "--reason", reason)
    assert changed.returncode == 0 and "version 2 is in force" in changed.stdout
    assert "10 11 31 42 43 44 45" in run(env, "matrix", "show").stdout
    unknown = run(env, "matrix", "deny", "--profession", "77", "--class", "31", "--by", "ops-42", "--reason", reason)
    assert unknown.returncode == 1 and "Unknown profession code '77'" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                select(MatrixVersion.changed_by, MatrixVersion.reason).where(MatrixVersion.version == 2)
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("ops-42", reason)


def test_a_fresh_cluster_without_the_application_role(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    """A role the cluster has never seen: serve explains, demo creates it through the migrations first."""
    role = f"carnet_app_{uuid.uuid4().hex[:8]}"
    env = {
        **base_env,
        "CARNET_DATABASE_URL": fresh_database(),
        "CARNET_DATABASE_ROLE": role,
        "CARNET_MASTER_KEY": generate_master_key_text(),
    }
    refused = run(env, "serve")
    assert refused.returncode == 2, refused.stderr
    assert f'role "{role}" does not exist (run `carnet migrate`' in refused.stderr
    assert "Traceback" not in refused.stderr
    demo = run(env, "demo", "--patients", "2", "--no-serve")
    assert demo.returncode == 0, demo.stderr
    assert "Demo data: 2 new records" in demo.stdout


def test_a_second_terminal_after_the_demo_needs_no_variable(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    """The README's commands, as written, beside a demo: the development keys the demo made are found."""
    env = {**base_env, "CARNET_DATABASE_URL": fresh_database()}
    assert run(env, "demo", "--patients", "2", "--no-serve").returncode == 0
    for command in (["audit", "verify"], ["matrix", "show"], ["audit", "seal"]):
        result = run(env, *command)
        assert result.returncode == 0, (command, result.stderr)
    production = run({**env, "CARNET_ENV": "production"}, "audit", "verify")  # never a key from a file by default
    assert production.returncode == 2 and "No master key" in production.stderr, production.stderr


def test_the_demo_prints_sign_ins_that_work_at_once_and_a_rerun_keeps_them(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    """Issue 12.6: demo accounts activated, password and TOTP secret printed; a rerun replaces nothing."""
    url = fresh_database()
    env = {**base_env, "CARNET_DATABASE_URL": url}
    first = run(env, "demo", "--patients", "3", "--no-serve")
    assert first.returncode == 0, first.stderr
    found = re.search(r"sign in as demo\.totp, password (\S+), TOTP secret ([A-Z2-7]{32})", first.stdout)
    assert found, first.stdout
    password, secret = found.groups()
    assert "sign in as demo.email" in first.stdout and "activate at /patient/activate" in first.stdout
    assert re.search(r"open it online at /patient/open with NIR 2850475111042, card SIM[0-9A-F]{12}", first.stdout)
    assert "simulated card reader reads NIR 1920769123456 (no record yet" in first.stdout
    again = run(env, "demo", "--patients", "3", "--no-serve")
    assert f"password {password}, TOTP secret {secret}" in again.stdout  # the same account, not a new one
    settings = Settings(database_url=SecretStr(url), data_dir=Path(base_env["CARNET_DATA_DIR"]))
    runtime = start_runtime(settings.model_copy(update={"master_key_file": settings.dev_master_key_file}))
    with runtime.unit_of_work() as ctx:
        step = accounts.sign_in(ctx, login="demo.totp", password=password, address="192.0.2.1")
    assert step.refusal is None and step.session_token
    with runtime.unit_of_work() as ctx:
        code = pyotp.TOTP(secret).now()
        done = accounts.second_factor(ctx, pending_token=step.session_token, code=code, address="192.0.2.1")
    assert done.refusal is None and done.session_token
    # A family: the first demo patient represents a child covered on their card, once however many reruns.
    assert "is covered on this card" in first.stdout and "is covered on this card" in again.stdout
    parent_ins, parent = synthetic_patient(1, 0)
    with runtime.unit_of_work() as ctx:
        parent_record = records_repository.living_record_for_ins(ctx.session, parent_ins)
        assert parent_record is not None
        children = represented(ctx, Actor.patient(parent_record.patient_id))
    assert [(c.given_names, c.family_name) for c in children] == [("Léa", parent.family_name)]
    runtime.engine.dispose()
