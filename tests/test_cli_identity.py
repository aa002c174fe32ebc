"""`carnet token`, `carnet card`, `carnet operators`, `carnet clients`, run as real processes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from carnet.identity.tokens import TokenIssuer, TokenVerifier
from carnet.kit.crypto import SealingKey, generate_master_key_text
from carnet.synthetic import synthetic_patient
from tests.factories import finess, rpps
from tests.test_cli import run

DOCTOR = rpps(801)


def _verifier(key_text: str) -> TokenVerifier:
    key = SealingKey.from_text(key_text, source="test")
    return TokenVerifier(TokenIssuer(key, "http://127.0.0.1:8000", "carnet-api", timedelta(minutes=10)))


def test_token_prints_a_token_the_server_accepts_and_refuses_production(base_env: dict[str, str]) -> None:
    key = generate_master_key_text()
    env = {**base_env, "CARNET_TOKEN_SIGNING_KEY": key}
    printed = run(
        env,
        "token",
        "--rpps",
        DOCTOR,
        "--profession",
        "10",
        "--organisation",
        finess(4),
        "--mode",
        "emergency",
        "--reason",
        "Patient inconscient, pas de proche joignable",
    )
    assert printed.returncode == 0, printed.stderr
    principal = _verifier(key).verify(printed.stdout.strip())
    assert (principal.actor.ref, principal.actor.mode.value, principal.actor.organisation) == (
        DOCTOR,
        "emergency",
        finess(4),
    )
    assert principal.purpose == "Patient inconscient, pas de proche joignable"
    desk = run(env, "token", "--desk", "AGENT5", "--office", "CPAM35")
    assert _verifier(key).verify(desk.stdout.strip()).actor.kind.value == "desk"

    refused = run(env, "token", "--rpps", DOCTOR, "--profession", "99")
    assert refused.returncode == 1 and "--profession" in refused.stderr
    no_reason = run(env, "token", "--rpps", DOCTOR, "--profession", "10", "--mode", "emergency")
    assert no_reason.returncode == 1 and "justification" in no_reason.stderr
    production = {**env, "CARNET_ENV": "production", "CARNET_DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    blocked = run(production, "token", "--rpps", DOCTOR, "--profession", "10")
    assert blocked.returncode == 2 and "does not run in production" in blocked.stderr
    assert blocked.stdout == ""
    card = run(production, "card", "present", "--patient", "1" * 15, "--to", DOCTOR)
    assert card.returncode == 2 and "does not run in production" in card.stderr


def test_card_present_authorises_the_professional_and_a_patient_token_follows(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    key = generate_master_key_text()
    env = {
        **base_env,
        "CARNET_DATABASE_URL": fresh_database(),
        "CARNET_MASTER_KEY": generate_master_key_text(),
        "CARNET_TOKEN_SIGNING_KEY": key,
    }
    assert run(env, "seed", "--patients", "2", "--documents-per-patient", "1").returncode == 0
    ins, _ = synthetic_patient(1, 0)
    shown = run(env, "card", "present", "--patient", ins, "--to", DOCTOR)
    assert shown.returncode == 0, shown.stderr
    assert f"presented to RPPS {DOCTOR}: read_write authorisation" in shown.stdout
    again = run(env, "card", "present", "--patient", ins, "--to", DOCTOR)  # the same simulated card, again
    assert again.returncode == 0, again.stderr
    patient = run(env, "token", "--patient", ins)
    assert _verifier(key).verify(patient.stdout.strip()).actor.kind.value == "patient"
    unknown = run(env, "token", "--patient", "2" * 13 + "55")
    assert unknown.returncode == 1 and "Error:" in unknown.stderr


def test_operators_and_clients_are_created_from_the_cli(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    env = {**base_env, "CARNET_DATABASE_URL": fresh_database(), "CARNET_MASTER_KEY": generate_master_key_text()}
    created = run(env, "operators", "add", "--login", "alice", "--role", "audit", "--password", "phare-gris-embruns-31")
    assert created.returncode == 0, created.stderr
    assert "TOTP secret (shown once)" in created.stdout and "otpauth://totp/" in created.stdout
    weak = run(env, "operators", "add", "--login", "bob", "--role", "audit", "--password", "password1234")
    assert weak.returncode == 1 and "attackers try" in weak.stderr
    client = run(
        env,
        "clients",
        "add",
        "--name",
        "Cabinet",
        "--rpps",
        DOCTOR,
        "--profession",
        "10",
        "--scope",
        "user/DocumentReference.read",
    )
    assert client.returncode == 0, client.stderr
    lines = dict(line.split("=", 1) for line in client.stdout.split())
    assert lines["client_id"].startswith("carnet-") and len(lines["client_secret"]) >= 40
    bad_scope = run(env, "clients", "add", "--name", "X", "--rpps", DOCTOR, "--profession", "10", "--scope", "all")
    assert bad_scope.returncode == 1 and "not a scope" in bad_scope.stderr
