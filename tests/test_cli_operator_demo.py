"""`carnet demo` prints an operator sign-in that works at once (every role); a rerun replaces nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pyotp
from pydantic import SecretStr

from carnet.identity import operators
from carnet.runtime import start_runtime
from carnet.settings import Settings
from tests.test_cli import run


def test_the_demo_prints_an_operator_sign_in_that_works_and_a_rerun_keeps_it(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    url = fresh_database()
    env = {**base_env, "CARNET_DATABASE_URL": url}
    first = run(env, "demo", "--patients", "1", "--no-serve")
    assert first.returncode == 0, first.stderr
    found = re.search(
        r"sign in at /operator/sign-in as (demo\.operator), password (\S+), TOTP secret ([A-Z2-7]{32}) \(every role\)",
        first.stdout,
    )
    assert found, first.stdout
    login, password, secret = found.groups()
    again = run(env, "demo", "--patients", "1", "--no-serve")
    assert f"password {password}, TOTP secret {secret}" in again.stdout  # the same account, not a new one
    settings = Settings(database_url=SecretStr(url), data_dir=Path(base_env["CARNET_DATA_DIR"]))
    runtime = start_runtime(settings.model_copy(update={"master_key_file": settings.dev_master_key_file}))
    with runtime.unit_of_work() as ctx:
        step = operators.sign_in(
            ctx, login=login, password=password, code=pyotp.TOTP(secret).now(), address="192.0.2.9"
        )
    assert step.refusal is None and step.session_token
    with runtime.unit_of_work() as ctx:
        _, view = operators.operator_of_session(ctx, step.session_token)
    assert sorted(view.roles) == sorted(operators.ROLES)
    runtime.engine.dispose()
