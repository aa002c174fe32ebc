"""The operator space over HTTP: sign-in with password and TOTP, sign-out, sessions, the roles' refusals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from carnet.identity.models import LoginSession
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.http_fixtures import PASSWORD
from tests.portal.forms import field_error, post, summary_links, unescaped
from tests.portal.operators import new_operator, operator_signs_in, signed_in_operator

Client = Callable[..., TestClient]


def test_an_operator_signs_in_with_password_and_code_and_sees_the_pages_of_their_roles(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    page = client.get("/")
    assert 'href="/operator/sign-in"' in page.text
    form = client.get("/operator/sign-in")
    assert form.status_code == 200 and "Connectez-vous à l'espace exploitant" in unescaped(form.text)
    assert form.headers["cache-control"] == "no-store"
    account = new_operator(runtime, "statistics", "audit")
    operator_signs_in(client, account)
    assert "carnet_operator" in client.cookies
    home = client.get("/operator")
    assert home.status_code == 200 and f"Vous êtes connecté en tant que {account.login}." in home.text
    assert home.headers["cache-control"] == "no-store"
    menu = home.text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/operator/statistics"' in menu and 'href="/operator/audit"' in menu
    assert 'href="/operator/matrix"' in menu and "/operator/sign-out" in menu
    # The JSON API's operator endpoints share the prefix and still answer JSON.
    assert client.get("/operator/session").json()["login"] == account.login
    assert client.post("/operator/login", json={}).headers["content-type"].startswith("application/json")


def test_a_wrong_password_or_code_is_a_message_beside_the_field_and_the_login_stays(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    account = new_operator(runtime, "audit")
    wrong_password = post(
        client, "/operator/sign-in", {"login": account.login, "password": "not-the-password", "code": account.code()}
    )
    assert wrong_password.status_code == 401
    assert field_error(wrong_password, "password") == "L&#39;identifiant, le mot de passe ou le code est incorrect."
    assert f'value="{account.login}"' in wrong_password.text and "not-the-password" not in wrong_password.text
    wrong_code = post(client, "/operator/sign-in", {"login": account.login, "password": PASSWORD, "code": "000000"})
    assert wrong_code.status_code == 401 and summary_links(wrong_code) == ["password"]
    assert "carnet_operator" not in client.cookies
    english = client.post(
        "/operator/sign-in",
        data={"csrf_token": client.cookies["carnet_csrf"], "login": "", "password": "", "code": ""},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert summary_links(english) == ["login", "password", "code"]
    assert field_error(english, "code") == "Enter the 6-digit code."


def test_an_ended_session_sends_to_the_sign_in_then_back_to_the_page_asked(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    account = new_operator(runtime, "audit")
    asked = client.get("/operator/audit", follow_redirects=False)
    assert (asked.status_code, asked.headers["location"]) == (303, "/operator/sign-in?next=/operator/audit")
    operator_signs_in(client, account, next_page="/operator/audit")
    with runtime.unit_of_work() as ctx:
        ctx.session.execute(
            update(LoginSession)
            .where(LoginSession.subject_kind == "operator", LoginSession.revoked_at.is_(None))
            .values(last_seen_at=clock.now() - timedelta(hours=1))
        )
    ended = client.get("/operator/audit", follow_redirects=False)
    assert ended.headers["location"] == "/operator/sign-in?next=/operator/audit&ended=true"
    assert "Votre session est terminée" in client.get(ended.headers["location"]).text
    operator_signs_in(client, account, next_page="/operator/audit")
    assert client.get("/operator/audit").status_code == 200

    out = post(client, "/operator/sign-out", {}, token_from="/operator")
    assert (out.status_code, out.headers["location"]) == (303, "/operator/sign-in?out=true")
    assert "Vous êtes déconnecté." in client.get(out.headers["location"]).text
    assert client.get("/operator", follow_redirects=False).status_code == 303


def test_a_page_without_its_role_is_refused_in_the_readers_words(client_for: Client, runtime: Runtime) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    menu = client.get("/operator").text.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/operator/audit"' not in menu and 'href="/operator/matrix"' in menu
    refused = client.get("/operator/audit")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html")
    assert "Votre compte n&#39;a pas le rôle traces des accès." in refused.text
    english = client.get("/operator/matrix/change", headers={"Accept-Language": "en"})
    assert english.status_code == 403 and "Your account does not have the accounts role." in english.text
    sent = post(
        client,
        "/operator/audit/export",
        {"rpps": "10000000017", "from": "2026-01-01", "to": "2026-01-31"},
        token_from="/operator",
    )
    assert sent.status_code == 403 and "text/csv" not in sent.headers["content-type"]
    assert client.get("/operator/audit/verify").status_code == 405  # verifying is asked with the form's token
