"""The health summary and the whole record in chromium, at 360x740 and 1280x800, in French and in English.

View the summary, add an allergy (a required field left empty first, the form reached with the keyboard), add
a weight (a value that is not a number first), download the PDF summary and read it, close the record (a wrong
password first) and reopen it. Every page is checked by `Pages.look` (axe-core, no sideways scroll, no
console error, a screenshot in var/screenshots/portal/).
"""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from carnet.identity import accounts
from carnet.identity.accounts import Activation
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code, menu_link
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import ready_patient

WORDS = {
    "fr": {
        "continue": "Continuer",
        "sign_in": "Se connecter",
        "summary": "Profil médical",
        "summary_title": "Votre profil médical",
        "add_allergy": "Ajouter une allergie ou une intolérance",
        "intolerance": "Une intolérance",
        "save": "Enregistrer",
        "missing_substance": "Saisissez ce à quoi vous réagissez.",
        "saved": "Votre information est enregistrée",
        "add_weight": "Ajouter votre poids",
        "not_a_number": "Saisissez un nombre",
        "weight": "72,5 kg",
        "account": "Votre compte",
        "record_link": "Télécharger, fermer ou détruire votre dossier",
        "pdf": "Télécharger la synthèse (PDF)",
        "pdf_title": "Synthèse de votre dossier",
        "close": "Fermer votre dossier",
        "close_button": "Fermer mon dossier",
        "wrong_password": "Le mot de passe est incorrect.",
        "closed": "Votre dossier est fermé.",
        "reopen": "Rouvrir votre dossier",
        "reopen_button": "Rouvrir mon dossier",
        "reopened": "Votre dossier est de nouveau ouvert",
        "remove": "Retirer cette information",
        "remove_title": "Retirer cette information ?",
        "remove_button": "Retirer l'information",
        "removed": "L'information est retirée.",
    },
    "en": {
        "continue": "Continue",
        "sign_in": "Sign in",
        "summary": "Health summary",
        "summary_title": "Your health summary",
        "add_allergy": "Add an allergy or an intolerance",
        "intolerance": "An intolerance",
        "save": "Save",
        "missing_substance": "Enter what you react to.",
        "saved": "Your entry is saved",
        "add_weight": "Add your weight",
        "not_a_number": "Enter a number",
        "weight": "72.5 kg",
        "account": "Your account",
        "record_link": "Download, close or destroy your record",
        "pdf": "Download the summary (PDF)",
        "pdf_title": "Summary of your record",
        "close": "Close your record",
        "close_button": "Close my record",
        "wrong_password": "The password is wrong.",
        "closed": "Your record is closed.",
        "reopen": "Reopen your record",
        "reopen_button": "Reopen my record",
        "reopened": "Your record is open again",
        "remove": "Remove this entry",
        "remove_title": "Remove this entry?",
        "remove_button": "Remove the entry",
        "removed": "The entry is removed.",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]


def _activated(portal: Portal, person: Person) -> tuple[str, str]:
    """An account activated as the activation page does it; its login and its authenticator's secret."""
    ready = ready_patient(portal.runtime, person)
    login = f"claire-{uuid.uuid4().hex[:8]}"
    activation = Activation(person.ins[:13], person.card.serial, ready.activation_code, login, PASSWORD, "totp")
    with portal.runtime.unit_of_work() as ctx:
        step = accounts.activate(ctx, activation, address="127.0.0.1")
    assert step.refusal is None and step.totp_uri
    return login, parse_qs(urlparse(step.totp_uri).query)["secret"][0]


def _sign_in(page: Page, words: dict[str, str], login: str, secret: str) -> None:
    page.goto("/patient/sign-in")
    page.locator("#login").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["continue"]).click()
    page.locator("#code").fill(fresh_code(secret))
    page.get_by_role("button", name=words["sign_in"]).click()


def _focused(page: Page) -> str:
    focused: str = page.evaluate("document.activeElement && document.activeElement.id")
    return focused


def _add_allergy(checked: Pages, words: dict[str, str], substance: str) -> None:
    page = checked.page
    page.get_by_role("link", name=words["add_allergy"]).click()
    checked.look("profile-add-allergy")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#substance-error")).to_contain_text(words["missing_substance"])
    checked.look("profile-add-allergy-missing")
    page.locator(".summary a").first.click()
    expect(page.locator("#substance")).to_be_focused()  # the summary links to the field
    page.keyboard.type(substance)  # and from there the keyboard does the rest
    for _ in range(8):
        page.keyboard.press("Tab")
        if _focused(page).startswith("type-"):
            break
    page.keyboard.press("ArrowDown")  # the radio group: the second answer, an intolerance
    expect(page.get_by_label(words["intolerance"])).to_be_checked()
    page.keyboard.press("Enter")
    expect(page.locator(".notice[role=status]")).to_contain_text(words["saved"])
    expect(page.locator("section[aria-labelledby=allergies]")).to_contain_text(substance)


def _add_weight(checked: Pages, words: dict[str, str]) -> None:
    page = checked.page
    page.get_by_role("link", name=words["add_weight"]).click()
    page.locator("#value").fill("beaucoup")
    page.locator("#measured_on").fill("2026-05-01")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#value-error")).to_contain_text(words["not_a_number"])
    expect(page.locator("#value")).to_have_value("beaucoup")  # what was typed stays
    checked.look("profile-add-weight-not-a-number")
    page.locator("#value").fill("72,5")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("section[aria-labelledby=measurements]")).to_contain_text(words["weight"])
    checked.look("profile-with-entries")


def _download_pdf(page: Page, words: dict[str, str], substance: str, folder: Path) -> None:
    with page.expect_download() as waiting:
        page.get_by_role("link", name=words["pdf"]).click()
    download = waiting.value
    assert download.suggested_filename == "carnet-summary.pdf"
    saved = folder / "summary.pdf"
    download.save_as(saved)
    reader = PdfReader(io.BytesIO(saved.read_bytes()))
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in reader.pages)
    assert words["pdf_title"] in text and substance in text and words["weight"] in text


def _remove_weight(checked: Pages, words: dict[str, str]) -> None:
    """Removing asks first, on a page that names the entry; only its button removes."""
    page = checked.page
    measurements = page.locator("section[aria-labelledby=measurements]")
    measurements.get_by_role("link", name=words["remove"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["remove_title"])
    expect(page.locator("main")).to_contain_text(words["weight"])
    checked.look("profile-remove-confirm")
    page.get_by_role("button", name=words["remove_button"]).click()
    expect(page.locator(".notice[role=status]")).to_contain_text(words["removed"])
    expect(measurements).not_to_contain_text(words["weight"])


def _close_and_reopen(checked: Pages, words: dict[str, str]) -> None:
    page = checked.page
    page.get_by_role("link", name=words["close"]).click()
    checked.look("record-close")
    page.locator("#password").fill("not the password")
    page.get_by_role("button", name=words["close_button"]).click()
    expect(page.locator("#password-error")).to_contain_text(words["wrong_password"])
    expect(page.locator("#password")).to_have_value("")
    checked.look("record-close-wrong-password")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["close_button"]).click()
    expect(page.locator(".notice[role=status]")).to_contain_text(words["closed"])
    checked.look("record-closed")
    page.get_by_role("link", name=words["reopen"]).click()
    checked.look("record-reopen")
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["reopen_button"]).click()
    expect(page.locator(".notice[role=status]")).to_contain_text(words["reopened"])
    checked.look("record-reopened")


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_the_health_summary_and_the_whole_record(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str, tmp_path: Path
) -> None:
    words = WORDS[lang]
    login, secret = _activated(portal, person)
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR", accept_downloads=True)
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"{lang}-{size}-record", SIZES[size]["width"])
    _sign_in(page, words, login, secret)
    expect(page).to_have_url(f"{portal.url}/patient")

    menu_link(page, words["summary"])
    expect(page.get_by_role("heading", level=1)).to_have_text(words["summary_title"])
    checked.look("profile-empty")
    substance = "Pénicilline" if lang == "fr" else "Penicillin"
    _add_allergy(checked, words, substance)
    _add_weight(checked, words)

    menu_link(page, words["account"])
    page.get_by_role("link", name=words["record_link"]).click()
    expect(page).to_have_url(re.compile(r"/patient/record$"))
    checked.look("record")
    _download_pdf(page, words, substance, tmp_path)
    _close_and_reopen(checked, words)
    menu_link(page, words["summary"])
    _remove_weight(checked, words)
    context.close()
