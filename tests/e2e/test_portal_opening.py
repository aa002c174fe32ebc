"""The journeys around the account in chromium, at 360x740 and 1280x800, in French and in English.

Recovery: "Forgotten password?" on the sign-in page, the login, the link as the e-mail carries it (its token
after `#`, which the page's script copies into the form), a weak password first, then a good one, and the
sign-in with it. Every page is checked by `Pages.look` (axe-core, no sideways scroll, no console error).
"""

from __future__ import annotations

import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from carnet.identity import accounts
from carnet.identity.accounts import Activation
from tests.api.flows import outbox_text
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import ready_patient

WORDS = {
    "fr": {
        "forgotten": "Mot de passe oublié ?",
        "send": "M'envoyer un lien",
        "sent": "Consultez vos messages",
        "change": "Changer mon mot de passe",
        "short": "Choisissez un mot de passe d'au moins 12 caractères.",
        "changed": "Votre mot de passe est changé",
        "sign_in": "Se connecter",
        "continue": "Continuer",
        "hello": "Bonjour Claire",
    },
    "en": {
        "forgotten": "Forgotten password?",
        "send": "Send me a link",
        "sent": "Check your messages",
        "change": "Change my password",
        "short": "Choose a password of at least 12 characters.",
        "changed": "Your password is changed",
        "sign_in": "Sign in",
        "continue": "Continue",
        "hello": "Hello Claire",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]
IDS = [f"{lang}-{size}" for lang, size in COMBINATIONS]
NEW_PASSWORD = "tortue velours fanfare 48"


def _open(browser: Browser, portal: Portal, size: str, lang: str) -> Page:
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    return context.new_page()


def _email_code(portal: Portal, patient_id: uuid.UUID, kind: str = "sign-in-code") -> str:
    return outbox_text(portal.runtime, patient_id, kind).split(" : ")[1][:6]


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=IDS)
def test_a_forgotten_password_is_replaced_from_the_link(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str
) -> None:
    words = WORDS[lang]
    ready = ready_patient(portal.runtime, person)
    login = f"claire-{uuid.uuid4().hex[:8]}"
    activation = Activation(
        nir=person.ins[:13],
        card_serial=person.card.serial,
        code=ready.activation_code,
        login=login,
        password=PASSWORD,
        second_factor="email",
        email="claire@example.org",
    )
    with portal.runtime.unit_of_work() as ctx:
        assert accounts.activate(ctx, activation, address="192.0.2.1").refusal is None
    page = _open(browser, portal, size, lang)
    checked = Pages(page, axe, f"opening-{lang}-{size}", SIZES[size]["width"])

    page.goto("/patient/sign-in")
    page.get_by_role("link", name=words["forgotten"]).click()
    checked.look("recovery")
    page.locator("#login").fill(login)
    page.get_by_role("button", name=words["send"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["sent"])
    checked.look("recovery-sent")

    link = re.search(r"https?://\S+", outbox_text(portal.runtime, ready.patient_id, "recovery"))
    assert link, "no link in the message"
    page.goto(link.group(0))
    expect(page.locator("#token-field")).to_be_hidden()  # the script took the token from the link
    assert "#" not in page.url  # and out of the address bar
    checked.look("recovery-new-password")
    page.locator("#password").fill("court")
    page.get_by_role("button", name=words["change"]).click()
    expect(page.locator("#password-error")).to_contain_text(words["short"])
    expect(page.locator("#password")).to_have_value("")
    checked.look("recovery-weak-password")
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["change"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["changed"])
    checked.look("recovery-done")

    page.get_by_role("link", name=words["sign_in"]).last.click()
    page.locator("#login").fill(login)
    page.locator("#password").fill(NEW_PASSWORD)
    page.get_by_role("button", name=words["continue"]).click()
    page.locator("#code").fill(_email_code(portal, ready.patient_id))
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    page.context.close()
