"""The patient's documents in chromium, at 360x740 and 1280x800, in French and in English.

The list, a filter, a PDF document and a text one, mask and unmask (the unmask with the keyboard alone), adding
one's own document after the form refused it empty and then with a file that is not what its name says. Every
page is checked by `Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from carnet.identity.accounts import Activation, activate
from carnet.records.documents import deposit_document
from carnet.synthetic import minimal_pdf
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code
from tests.factories import SYSTEM, document_meta
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import FIRST_DOCUMENT, SECOND_DOCUMENT, ready_patient

WORDS = {
    "fr": {
        "continue": "Continuer",
        "sign_in": "Se connecter",
        "documents": "Vos documents",
        "filters": "Filtrer les documents",
        "kind": "Catégorie de document",
        "summary": "Synthèse",
        "show": "Afficher les documents",
        "clear": "Effacer les filtres",
        "mask": "Masquer ce document",
        "unmask": "Démasquer ce document",
        "masked": "Le document est masqué",
        "unmasked": "n'est plus masqué",
        "back": "Retour à vos documents",
        "add": "Ajouter un document",
        "submit": "Ajouter le document",
        "title": "Titre",
        "type": "Type de document",
        "vaccination": "Historique des vaccinations",
        "file": "Fichier",
        "no_file": "Choisissez le fichier à ajouter.",
        "no_title": "Donnez un titre au document",
        "mislabelled": "n'est pas ce que son nom indique",
        "added": "Votre document est ajouté à votre dossier.",
        "by_you": "Ajouté par vous",
    },
    "en": {
        "continue": "Continue",
        "sign_in": "Sign in",
        "documents": "Your documents",
        "filters": "Filter the documents",
        "kind": "Kind of document",
        "summary": "Summary",
        "show": "Show the documents",
        "clear": "Clear the filters",
        "mask": "Mask this document",
        "unmask": "Unmask this document",
        "masked": "The document is masked",
        "unmasked": "is no longer masked",
        "back": "Back to your documents",
        "add": "Add a document",
        "submit": "Add the document",
        "title": "Title",
        "type": "Type of document",
        "vaccination": "Vaccination record",
        "file": "File",
        "no_file": "Choose the file to add.",
        "no_title": "Give the document a title",
        "mislabelled": "is not what its name says",
        "added": "Your document is added to your record.",
        "by_you": "Added by you",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]
NOTE = "Conseils après la consultation"


def _signed_in_page(browser: Browser, portal: Portal, person: Person, lang: str, size: str) -> Page:
    """A patient whose account is active, signed in through the portal's pages in `lang`."""
    ready = ready_patient(portal.runtime, person)
    login = f"claire-{uuid.uuid4().hex[:8]}"
    with portal.runtime.unit_of_work() as ctx:
        step = activate(
            ctx,
            Activation(person.ins[:13], person.card.serial, ready.activation_code, login, PASSWORD, "totp"),
            address="127.0.0.1",
        )
        note = document_meta(title=NOTE, format="text/plain", type_code="11506-3")
        deposit_document(ctx, SYSTEM, ready.patient_id, note, b"Buvez de l'eau.\nRevenez dans un mois.")
    assert step.totp_uri is not None
    secret = step.totp_uri.split("secret=")[1].split("&")[0]
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    page.goto("/patient/documents")
    page.locator("#login").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=WORDS[lang]["continue"]).click()
    page.locator("#code").fill(fresh_code(secret))
    page.get_by_role("button", name=WORDS[lang]["sign_in"]).click()
    expect(page).to_have_url(f"{portal.url}/patient/documents")  # back to the page asked
    return page


def _focused(page: Page) -> str:
    focused: str = page.evaluate("document.activeElement && document.activeElement.id")
    return focused


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_the_patients_documents(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str, tmp_path: Path
) -> None:
    words = WORDS[lang]
    page = _signed_in_page(browser, portal, person, lang, size)
    checked = Pages(page, axe, f"{lang}-{size}-documents", SIZES[size]["width"])
    titles = page.locator(".documents li .title")

    expect(page.get_by_role("heading", level=1)).to_have_text(words["documents"])
    expect(titles).to_have_text([SECOND_DOCUMENT, NOTE, FIRST_DOCUMENT])  # newest act first
    checked.look("list")
    page.get_by_text(words["filters"]).click()
    page.get_by_label(words["kind"]).select_option(label=words["summary"])
    page.get_by_role("button", name=words["show"]).click()
    expect(titles).to_have_text([SECOND_DOCUMENT])
    expect(page).to_have_url(re.compile(r"/patient/documents\?class=11"))
    checked.look("list-filtered")
    page.get_by_role("link", name=words["clear"]).click()
    expect(titles).to_have_count(3)

    page.get_by_role("link", name=FIRST_DOCUMENT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FIRST_DOCUMENT)
    expect(page.locator("iframe.viewer")).to_be_visible()
    checked.look("document-pdf")
    button = page.get_by_role("button", name=words["mask"])
    # Scrolled first: a click that scrolls the page itself while chromium's PDF viewer lays out is lost.
    button.scroll_into_view_if_needed()
    button.click()
    expect(page.locator(".done")).to_contain_text(words["masked"])
    checked.look("document-masked")
    page.goto("/patient/documents")
    expect(page.locator(".documents li").filter(has_text=FIRST_DOCUMENT).locator(".tag.masked")).to_be_visible()
    page.get_by_role("link", name=FIRST_DOCUMENT).click()
    page.locator("#mask-button").focus()  # the keyboard reaches the button and Enter presses it
    assert _focused(page) == "mask-button"
    page.keyboard.press("Enter")
    expect(page.locator(".done")).to_contain_text(words["unmasked"])
    expect(page.get_by_role("button", name=words["mask"])).to_be_visible()
    checked.look("document-unmasked")

    page.get_by_role("link", name=words["back"]).click()
    page.get_by_role("link", name=NOTE).click()
    expect(page.locator("pre.text-content")).to_have_text("Buvez de l'eau.\nRevenez dans un mois.")
    checked.look("document-text")

    page.get_by_role("link", name=words["back"]).click()
    page.get_by_role("link", name=words["add"]).click()
    checked.look("add")
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.locator("#title-error")).to_contain_text(words["no_title"])
    expect(page.locator("#file-error")).to_contain_text(words["no_file"])
    checked.look("add-empty")
    page.locator(".summary a").first.click()
    expect(page.locator("#title")).to_be_focused()  # the summary links to the field

    fake = tmp_path / "certificat.pdf"
    fake.write_bytes(b"GIF89a this is not a PDF")
    page.get_by_label(words["title"], exact=True).fill("Certificat de vaccination")
    page.get_by_label(words["type"]).select_option(label=words["vaccination"])
    page.get_by_label(words["file"], exact=True).set_input_files(fake)
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.locator("#file-error")).to_contain_text(words["mislabelled"])
    expect(page.locator("#title")).to_have_value("Certificat de vaccination")  # what was typed stays
    checked.look("add-mislabelled")

    real = tmp_path / "vaccins.pdf"
    real.write_bytes(minimal_pdf("Certificat de vaccination"))
    page.get_by_label(words["type"]).select_option(label=words["vaccination"])
    page.get_by_label(words["file"], exact=True).set_input_files(real)
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.locator(".done")).to_have_text(words["added"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificat de vaccination")
    expect(page.locator(".facts")).to_contain_text(words["by_you"])
    checked.look("added")
    page.get_by_role("link", name=words["back"]).click()
    expect(titles.first).to_be_visible()
    expect(page.locator(".documents")).to_contain_text("Certificat de vaccination")
    page.context.close()
