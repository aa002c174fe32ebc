"""The patient's journeys in chromium, at 360x740 and 1280x800, in French and in English.

Activation (with a wrong code, then a weak password first), sign-in (a wrong password, a wrong code first),
the home page with the latest documents, the account page, sign-out everywhere seen from another device,
the session that ended sending back to the page asked once signed in again, and sign-out. Every page is
checked by `Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import re
import uuid

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code, menu_button, menu_link
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import FIRST_DOCUMENT, SECOND_DOCUMENT, ready_patient

WORDS = {
    "fr": {
        "activate": "Activer votre compte",
        "submit_activation": "Activer mon compte",
        "sign_in": "Se connecter",
        "continue": "Continuer",
        "professionals": "Professionnels de santé",
        "staff_sign_in": "Connexion des professionnels de santé",
        "problem": "Il y a un problème",
        "no_match": "Ces informations ne correspondent pas",
        "short": "Choisissez un mot de passe d'au moins 12 caractères.",
        "active": "Votre compte est activé",
        "wrong_password": "L'identifiant ou le mot de passe est incorrect.",
        "wrong_code": "Ce code est incorrect ou a expiré.",
        "hello": "Bonjour Claire",
        "act_day": "9 juin 2026",
        "account": "Votre compte",
        "everywhere": "Se déconnecter partout",
        "signed_out": "Déconnexion effectuée",
        "ended": "Votre session est terminée",
        "sign_out": "Se déconnecter",
        "home": "Accueil",
    },
    "en": {
        "activate": "Activate your account",
        "submit_activation": "Activate my account",
        "sign_in": "Sign in",
        "continue": "Continue",
        "professionals": "Health professionals",
        "staff_sign_in": "Sign in as a health professional",
        "problem": "There is a problem",
        "no_match": "These details do not match",
        "short": "Choose a password of at least 12 characters.",
        "active": "Your account is active",
        "wrong_password": "The login or the password is wrong.",
        "wrong_code": "This code is wrong or has expired.",
        "hello": "Hello Claire",
        "act_day": "9 June 2026",
        "account": "Your account",
        "everywhere": "Sign out everywhere",
        "signed_out": "You are signed out",
        "ended": "Your session has ended",
        "sign_out": "Sign out",
        "home": "Home",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]


def _wrong(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def _open(browser: Browser, portal: Portal, size: str, *, chosen: str | None = None) -> Page:
    """A browser whose own language is French; `chosen`: the reader picked a language with the switch before."""
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    if chosen:
        context.add_cookies([{"name": "carnet_lang", "value": chosen, "url": portal.url}])
    return context.new_page()


def _activate(checked: Pages, words: dict[str, str], person: Person, code: str, login: str) -> str:
    page = checked.page
    page.get_by_role("link", name=words["activate"]).first.click()
    checked.look("activate")
    page.get_by_label(re.compile("^(Numéro de sécurité sociale|Social security number)$")).fill(person.ins[:13])
    page.locator("#card_serial").fill(person.card.serial)
    page.locator("#activation_code").fill("NOT-THE-CODE")
    page.locator("#login").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["submit_activation"]).click()
    expect(page.locator(".summary")).to_contain_text(words["no_match"])
    expect(page.locator("#nir-error")).to_contain_text(words["no_match"])
    expect(page.locator("#login")).to_have_value(login)  # what was typed stays...
    expect(page.locator("#password")).to_have_value("")  # ...but no secret
    checked.look("activate-wrong-code")
    page.locator(".summary a").first.click()
    expect(page.locator("#nir")).to_be_focused()  # the summary links to the field

    page.locator("#activation_code").fill(code)
    page.locator("#password").fill("court")
    page.get_by_role("button", name=words["submit_activation"]).click()
    expect(page.locator("#password-error")).to_contain_text(words["short"])
    checked.look("activate-weak-password")
    page.locator("#activation_code").fill(code)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["submit_activation"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["active"])
    expect(page.locator("figure.qr svg[role=img]")).to_be_visible()
    checked.look("activated")
    return page.locator(".secret code").inner_text().replace(" ", "")


def _sign_in(checked: Pages, words: dict[str, str], login: str, secret: str, *, mistakes: bool) -> None:
    page = checked.page
    page.locator("#login").fill(login)
    if mistakes:
        page.locator("#password").fill("not the password")
        page.get_by_role("button", name=words["continue"]).click()
        expect(page.locator("#password-error")).to_contain_text(words["wrong_password"])
        expect(page.locator("#login")).to_have_value(login)
        checked.look("sign-in-wrong-password")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["continue"]).click()
    expect(page.locator("#code")).to_be_visible()
    if mistakes:
        checked.look("code")
        page.locator("#code").fill(_wrong(pyotp.TOTP(secret).now()))
        page.get_by_role("button", name=words["sign_in"]).click()
        expect(page.locator("#code-error")).to_contain_text(words["wrong_code"])
        checked.look("code-wrong")
    page.locator("#code").fill(fresh_code(secret))
    page.get_by_role("button", name=words["sign_in"]).click()


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_the_patients_journeys(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str
) -> None:
    words = WORDS[lang]
    ready = ready_patient(portal.runtime, person)
    login = f"claire-{uuid.uuid4().hex[:8]}"
    page = _open(browser, portal, size)
    checked = Pages(page, axe, f"{lang}-{size}", SIZES[size]["width"])

    page.goto("/")
    if lang == "en":
        page.get_by_role("button", name="English").click()  # the switch, remembered from now on
    expect(page.locator("html")).to_have_attribute("lang", lang)
    checked.look("home")
    page.get_by_role("link", name=words["professionals"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["staff_sign_in"])
    checked.look("space-professional")
    page.goto("/")

    secret = _activate(checked, words, person, ready.activation_code, login)
    page.get_by_role("link", name=words["sign_in"]).last.click()
    checked.look("sign-in")
    _sign_in(checked, words, login, secret, mistakes=True)
    expect(page).to_have_url(f"{portal.url}/patient")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    documents = page.locator(".documents li .title")  # new since the last visit (here: ever), shown once
    expect(documents).to_have_text([SECOND_DOCUMENT, FIRST_DOCUMENT])  # the latest deposit first
    expect(page.locator(".documents")).to_contain_text(words["act_day"])
    checked.look("patient-home")
    menu_link(page, words["account"])
    checked.look("account")

    # Another device signs in; sign-out everywhere from this one ends it, and it comes back to its page after.
    other = _open(browser, portal, size, chosen=lang)
    other_checked = Pages(other, axe, f"{lang}-{size}-other", SIZES[size]["width"])
    other.goto("/patient/account")
    expect(other).to_have_url(re.compile(r"/patient/sign-in\?next=/patient/account$"))
    _sign_in(other_checked, words, login, secret, mistakes=False)
    expect(other).to_have_url(f"{portal.url}/patient/account")
    page.get_by_role("button", name=words["everywhere"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["signed_out"])
    checked.look("signed-out-everywhere")
    other.reload()
    expect(other.locator(".notice")).to_contain_text(words["ended"])
    other_checked.look("sign-in-session-ended")
    _sign_in(other_checked, words, login, secret, mistakes=False)
    expect(other).to_have_url(f"{portal.url}/patient/account")  # back to the page asked
    menu_button(other, words["sign_out"])
    expect(other.get_by_role("heading", level=1)).to_have_text(words["signed_out"])
    other.goto("/patient")
    expect(other).to_have_url(re.compile(r"/patient/sign-in\?next=/patient$"))
    other.context.close()
    page.context.close()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_sign_in_with_the_keyboard_alone(browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str) -> None:
    words = WORDS[lang]
    ready = ready_patient(portal.runtime, person)
    login = f"claire-{uuid.uuid4().hex[:8]}"
    page = _open(browser, portal, "desktop")
    checked = Pages(page, axe, f"{lang}-keyboard", DESKTOP["width"])
    page.goto("/")
    if lang == "en":
        page.get_by_role("button", name="English").click()
    secret = _activate(checked, words, person, ready.activation_code, login)

    page.goto("/patient/sign-in")
    _tab_to(page, "login")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    assert _focused(page) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#code")).to_be_visible()
    _tab_to(page, "code")
    page.keyboard.type(fresh_code(secret))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{portal.url}/patient")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    checked.look("keyboard-signed-in")
    page.context.close()


def _focused(page: Page) -> str:
    focused: str = page.evaluate("document.activeElement && document.activeElement.id")
    return focused


def _tab_to(page: Page, element_id: str) -> None:
    """Tab from the top of the page until the field has the focus, as a keyboard user does."""
    for _ in range(12):
        page.keyboard.press("Tab")
        if _focused(page) == element_id:
            return
    pytest.fail(f"Tab never reached #{element_id}")
