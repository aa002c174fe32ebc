"""The journeys around the account in chromium, at 360x740 and 1280x800, in French and in English.

Opening online: from the home page, the NIR and the card's serial, the code the insurer's contact received
(a wrong one first), the name and birth date (a missing field first), the account without the activation
code, the authenticator app confirmed by its first code (a wrong one first), and the record's home page.
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
from sqlalchemy import select

from carnet.identity import accounts
from carnet.identity.accounts import Activation
from carnet.identity.cards import SimulatedCard, register_card
from carnet.notify.models import OutboxMessage
from carnet.notify.worker import message_content
from carnet.records.models import Record
from tests.api.flows import outbox_text
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code
from tests.factories import new_ins
from tests.http_fixtures import INSURER, PASSWORD, Person
from tests.portal.patients import ready_patient

WORDS = {
    "fr": {
        "open_online": "Ouvrir votre dossier en ligne",
        "send_code": "M'envoyer un code",
        "open": "Ouvrir mon dossier",
        "family_missing": "Indiquez votre nom de famille.",
        "wrong_code": "Ce code est incorrect ou a expiré.",
        "activate": "Activer mon compte",
        "active": "Votre compte est activé",
        "confirm": "Confirmer et ouvrir mon dossier",
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
        "open_online": "Open your record online",
        "send_code": "Send me a code",
        "open": "Open my record",
        "family_missing": "Enter your family name.",
        "wrong_code": "This code is wrong or has expired.",
        "activate": "Activate my account",
        "active": "Your account is active",
        "confirm": "Confirm and open my record",
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


def _opening_code(portal: Portal, serial: str) -> str:
    with portal.runtime.unit_of_work() as ctx:
        row = ctx.session.scalars(select(OutboxMessage).where(OutboxMessage.card_serial == serial)).one()
        content = message_content(ctx, row)
    assert content is not None
    found = re.search(r" : (\d{6})\.", content[1])
    assert found, content
    return found.group(1)


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=IDS)
def test_a_patient_opens_their_record_online_and_signs_in(
    browser: Browser, axe: Axe, portal: Portal, lang: str, size: str
) -> None:
    words = WORDS[lang]
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with portal.runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key(), email="claire@example.org")
    login = f"claire-{uuid.uuid4().hex[:8]}"
    page = _open(browser, portal, size, lang)
    checked = Pages(page, axe, f"opening-{lang}-{size}-online", SIZES[size]["width"])

    page.goto("/")
    page.get_by_role("link", name=words["open_online"]).click()
    checked.look("open")
    page.locator("#nir").fill(ins[:13])
    page.locator("#card_serial").fill(card.serial)
    page.get_by_role("button", name=words["send_code"]).click()
    expect(page.locator("#code")).to_be_visible()
    checked.look("open-code")
    code = _opening_code(portal, card.serial)
    page.locator("#code").fill("000000" if code != "000000" else "111111")
    page.get_by_role("button", name=words["continue"]).click()
    expect(page.locator("#code-error")).to_contain_text(words["wrong_code"])
    checked.look("open-code-wrong")
    page.locator("#code").fill(code)
    page.get_by_role("button", name=words["continue"]).click()

    expect(page.locator("#family_name")).to_be_visible()
    checked.look("open-identity")
    page.locator("#given_names").fill("Claire")
    page.locator("#birth_date").fill("12/04/1985")
    page.locator("#postcode").fill("75011")
    page.get_by_role("button", name=words["open"]).click()
    expect(page.locator("#family_name-error")).to_contain_text(words["family_missing"])
    expect(page.locator("#given_names")).to_have_value("Claire")
    checked.look("open-identity-missing")
    page.locator("#family_name").fill("Dupont")
    page.get_by_role("button", name=words["open"]).click()

    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#activation_code")).to_have_count(0)  # the journey proved it: not asked again
    checked.look("open-account")
    page.locator("#login").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["activate"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["active"])
    secret = page.locator(".secret code").inner_text().replace(" ", "")
    checked.look("open-activated")
    page.locator("#code").fill("000000" if fresh_code(secret) != "000000" else "111111")
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page.locator("#code-error")).to_contain_text(words["wrong_code"])
    expect(page.locator("figure.qr svg[role=img]")).to_be_visible()  # the same key again, to scan again
    checked.look("open-activated-wrong-code")
    page.locator("#code").fill(fresh_code(secret))
    page.get_by_role("button", name=words["confirm"]).click()
    expect(page).to_have_url(f"{portal.url}/patient")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    checked.look("open-patient-home")
    with portal.runtime.unit_of_work() as ctx:
        record = ctx.session.scalars(select(Record).where(Record.ins == ins)).one()
        assert record.channel == "online"
    page.context.close()
