"""What a browser does with the portal's forms, for the HTTP tests: read the CSRF token, post, follow."""

from __future__ import annotations

import re

import httpx

from tests.http_fixtures import PASSWORD, Person, totp_now

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r'<p class="secret"><code>([A-Z2-7 ]+)</code></p>')


def token_of(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def post(client: httpx.Client, path: str, data: dict[str, str], *, token_from: str | None = None) -> httpx.Response:
    """Posts a form the way a browser does: the CSRF token of the page the form is on."""
    token = token_of(client.get(token_from or path))
    return client.post(path, data={"csrf_token": token, **data}, follow_redirects=False)


def activation_form(person: Person, code: str, login: str, **overrides: str) -> dict[str, str]:
    return {
        "nir": person.ins[:13],
        "card_serial": person.card.serial,
        "activation_code": code,
        "login": login,
        "password": PASSWORD,
        "second_factor": "totp",
        "email": "",
        "phone": "",
        **overrides,
    }


def totp_uri_of(page: httpx.Response) -> str:
    """The authenticator's URI from the key shown in letters beside the QR code."""
    found = SECRET.search(page.text)
    assert found, page.text[:2000]
    return f"otpauth://totp/Carnet:x?secret={found.group(1).replace(' ', '')}&issuer=Carnet"


def sign_in(client: httpx.Client, login: str, uri: str, *, next_page: str = "/patient") -> httpx.Response:
    first = post(client, "/patient/sign-in", {"login": login, "password": PASSWORD, "next": next_page})
    assert first.status_code == 303, first.text
    second = post(client, "/patient/sign-in/code", {"code": totp_now(uri), "next": next_page}, token_from="/")
    assert second.status_code == 303, second.text
    return second


def field_error(page: httpx.Response, name: str) -> str:
    found = re.search(
        rf'<p class="error" id="{name}-error"><span class="visually-hidden">[^<]*</span> ([^<]*)</p>', page.text
    )
    assert found, f"no error beside {name}"
    return found.group(1)


def summary_links(page: httpx.Response) -> list[str]:
    summary = page.text.split('class="summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<a href="#([a-z_]+)">', summary)


def unescaped(text: str) -> str:
    return text.replace("&#39;", "'").replace("&amp;", "&").replace("&#34;", '"')
