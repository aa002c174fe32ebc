"""Operators for the portal's tests: an account with the roles asked, signed in over HTTP with its TOTP code."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pyotp
from fastapi.testclient import TestClient

from carnet.identity.operators import create_operator
from carnet.runtime import Runtime
from tests.http_fixtures import PASSWORD, totp_now
from tests.portal.forms import post

ALL_ROLES = ("statistics", "audit", "keys", "accounts")


@dataclass(frozen=True)
class OperatorAccount:
    login: str
    uri: str

    def code(self) -> str:
        return totp_now(self.uri)


def new_operator(runtime: Runtime, *roles: str) -> OperatorAccount:
    login = f"ops-{uuid.uuid4().hex[:8]}"
    with runtime.unit_of_work() as ctx:
        created = create_operator(ctx, login=login, password=PASSWORD, roles=list(roles or ALL_ROLES))
    return OperatorAccount(login, pyotp.TOTP(created.totp_secret).provisioning_uri(name=login))


def operator_signs_in(client: TestClient, account: OperatorAccount, *, next_page: str = "/operator") -> None:
    form = {"login": account.login, "password": PASSWORD, "code": account.code(), "next": next_page}
    done = post(client, "/operator/sign-in", form)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == next_page


def signed_in_operator(client: TestClient, runtime: Runtime, *roles: str) -> OperatorAccount:
    account = new_operator(runtime, *roles)
    operator_signs_in(client, account)
    return account
