"""The portal's shared parts over HTTP: languages, security headers, CSRF, pages for every failure."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carnet.identity.models import LoginSession
from carnet.portal.web import CONTENT_SECURITY_POLICY
from carnet.runtime import Runtime
from tests.http_fixtures import PASSWORD
from tests.portal.forms import post, token_of, unescaped

Client = Callable[..., TestClient]
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE)


def test_french_by_default_english_from_the_browser_then_the_readers_choice(client_for: Client) -> None:
    client = client_for()
    french = client.get("/")
    assert '<html lang="fr">' in french.text and "Votre dossier médical partagé" in french.text
    assert 'name="lang" value="en" lang="en">English</button>' in french.text  # the switch, on every page
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in english.text and "Your shared medical record" in english.text
    assert client.get("/", headers={"Accept-Language": "de-DE, es"}).text.count('<html lang="fr">') == 1

    chosen = post(client, "/language", {"lang": "en", "next": "/patient/sign-in"}, token_from="/")
    assert (chosen.status_code, chosen.headers["location"]) == (303, "/patient/sign-in")
    assert "carnet_lang=en" in chosen.headers["set-cookie"]
    assert "Sign in to your record" in client.get("/patient/sign-in", headers={"Accept-Language": "fr"}).text
    back = post(client, "/language", {"lang": "fr", "next": "https://elsewhere.example/"}, token_from="/")
    assert back.headers["location"] == "/"  # never sent off-site
    assert "Connectez-vous à votre dossier" in client.get("/patient/sign-in").text


def test_every_portal_answer_carries_the_security_headers(client_for: Client) -> None:
    client = client_for()
    for path in ("/", "/operator/sign-in", "/patient/sign-in", "/patient/activate", "/patient/nowhere"):
        answer = client.get(path)
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["referrer-policy"] == "no-referrer", path
        assert answer.headers["cache-control"] == "no-store", path
        assert not INLINE.search(answer.text), path  # nothing the CSP would have to refuse
    script = client.get("/static/htmx-2.0.11.min.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in client.get("/health").headers  # the API's answers are left alone


def test_a_state_change_without_the_forms_token_is_refused_and_does_nothing(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    client.get("/")  # the CSRF cookie is set
    with runtime.unit_of_work() as ctx:
        before = ctx.session.scalar(select(func.count()).select_from(LoginSession))
    missing = client.post("/patient/sign-in", data={"login": "someone", "password": PASSWORD})
    assert missing.status_code == 403
    assert "Ce formulaire a expiré" in missing.text and "Rien n'a été fait" in unescaped(missing.text)
    assert missing.headers["content-type"].startswith("text/html")
    wrong = client.post("/patient/sign-in", data={"csrf_token": "x" * 43, "login": "someone", "password": PASSWORD})
    assert wrong.status_code == 403
    english = client.post("/language", data={"lang": "en"}, headers={"Accept-Language": "en"})
    assert english.status_code == 403 and "This form has expired" in english.text
    assert "set-cookie" not in english.headers or "carnet_lang" not in english.headers["set-cookie"]
    with runtime.unit_of_work() as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(LoginSession)) == before


def test_the_token_of_one_browser_does_not_serve_another(client_for: Client) -> None:
    mine, theirs = client_for(), client_for()
    token = token_of(mine.get("/"))
    theirs.get("/")
    assert theirs.post("/language", data={"csrf_token": token, "lang": "en"}).status_code == 403


def test_failures_under_the_portal_are_pages_in_the_readers_language(client_for: Client) -> None:
    client = client_for()
    missing = client.get("/patient/nothing-here")
    assert missing.status_code == 404 and "Cette page n&#39;existe pas." in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    unknown_space = client.get("/spaces/astronauts", headers={"Accept-Language": "en"})
    assert unknown_space.status_code == 404 and "This page does not exist." in unknown_space.text
    wrong_method = client.delete("/patient/sign-in")
    assert wrong_method.status_code == 405 and "Cette action n&#39;est pas permise." in wrong_method.text
    nul = client.get("/patient/sign-in?next=%00")
    assert nul.status_code == 400 and nul.headers["content-type"].startswith("text/html")
    assert client.get("/records/whatever").headers["content-type"].startswith("application/json")  # API unchanged


def test_the_home_page_leads_to_every_space(client_for: Client) -> None:
    client = client_for()
    home = client.get("/")
    for space in ("professional", "pharmacy", "desk"):
        assert f'href="/staff/sign-in?space={space}"' in home.text
        assert client.get(f"/staff/sign-in?space={space}").status_code == 200
    assert 'href="/operator/sign-in"' in home.text and client.get("/operator/sign-in").status_code == 200
