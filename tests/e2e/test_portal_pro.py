"""The professional's space in chromium, at 360x740 and 1280x800, in French and in English.

A doctor signs in (development's picker), finds a patient by INS, reads their carte Vitale (the simulated card
signs), reads the record and a document, deposits one after the form refused it empty, then declares an
emergency access for another patient (refused without its justification first) and sees the red banner on
every page. Every page is checked by `Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect

from carnet.records.documents import deposit_document
from carnet.synthetic import minimal_pdf
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal
from tests.factories import SYSTEM, document_meta
from tests.portal.professionals import listed
from tests.portal.pros import holder

WORDS = {
    "fr": {
        "sign_in": "Se connecter",
        "who": "Qui vous êtes",
        "ins": "L'INS du patient",
        "find": "Trouver le dossier",
        "no_record": "Aucun dossier que vous puissiez lire pour ce patient",
        "read_card": "Lire la carte Vitale",
        "signs": "La carte signe",
        "card_read": "La carte Vitale est lue",
        "deposit": "Déposer un document",
        "submit": "Déposer le document",
        "no_title": "Donnez un titre au document",
        "title": "Titre",
        "kind": "Catégorie de document",
        "report": "Compte rendu",
        "type": "Type de document",
        "consultation": "Compte rendu de consultation",
        "act_date": "Date de l'acte",
        "file": "Le fichier",
        "deposited": "Le document est déposé",
        "open": "Ouvrir le document",
        "back": "Retour au dossier",
        "declare": "Déclarer un accès en urgence",
        "declare_now": "Déclarer l'accès en urgence",
        "why": "Pourquoi vous avez besoin de cet accès",
        "write_why": "le patient le lira",
        "banner": "Accès en urgence en cours",
        "find_patient": "Trouver un patient",
        "summary": "Profil médical",
        "search_titles": "Rechercher dans les titres",
        "search": "Rechercher",
        "add_allergy": "Ajouter une allergie ou une intolérance",
        "reacts": "Ce à quoi le patient réagit",
        "save": "Enregistrer",
        "no_substance": "Saisissez ce à quoi le patient réagit",
        "added": "L'information est ajoutée au profil médical",
    },
    "en": {
        "sign_in": "Sign in",
        "who": "Who you are",
        "ins": "The patient's INS",
        "find": "Find the record",
        "no_record": "No record you can read for this patient",
        "read_card": "Read the carte Vitale",
        "signs": "The card signs",
        "card_read": "The carte Vitale is read",
        "deposit": "Deposit a document",
        "submit": "Deposit the document",
        "no_title": "Give the document a title",
        "title": "Title",
        "kind": "Kind of document",
        "report": "Report",
        "type": "Type of document",
        "consultation": "Consultation report",
        "act_date": "Date of the act",
        "file": "The file",
        "deposited": "The document is deposited",
        "open": "Open the document",
        "back": "Back to the record",
        "declare": "Declare an emergency access",
        "declare_now": "Declare the emergency access",
        "why": "Why you need this access",
        "write_why": "the patient will read it",
        "banner": "Emergency access in progress",
        "find_patient": "Find a patient",
        "summary": "Health summary",
        "search_titles": "Search the titles",
        "search": "Search",
        "add_allergy": "Add an allergy or an intolerance",
        "reacts": "What the patient reacts to",
        "save": "Save",
        "no_substance": "Enter what the patient reacts to",
        "added": "The entry is added to the health summary",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]
ALREADY = "Bilan sanguin de contrôle"


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_a_doctor_reads_with_the_card_deposits_and_declares_an_emergency(
    browser: Browser, axe: Axe, portal: Portal, lang: str, size: str, tmp_path: Path
) -> None:
    words = WORDS[lang]
    doctor = listed(portal.runtime, "Aabel")  # first in the picker, which lists the directory by name
    patient, other = holder(portal.runtime), holder(portal.runtime)
    assert patient.patient_id is not None
    with portal.runtime.unit_of_work() as ctx:
        deposit_document(ctx, SYSTEM, patient.patient_id, document_meta(title=ALREADY), minimal_pdf(ALREADY))
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"{lang}-{size}-pro", SIZES[size]["width"])

    page.goto("/staff/sign-in?space=professional")
    page.get_by_label(words["who"]).select_option(value=doctor.rpps)
    checked.look("sign-in")
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page).to_have_url(f"{portal.url}/pro")
    checked.look("home")

    page.get_by_label(words["ins"]).fill(patient.ins)
    page.keyboard.press("Enter")  # the keyboard sends the form
    expect(page.get_by_role("heading", level=1)).to_have_text(words["no_record"])
    checked.look("no-record")
    page.get_by_role("button", name=words["read_card"]).click()
    checked.look("card")
    page.get_by_role("button", name=words["signs"]).click()
    expect(page.locator(".done")).to_contain_text(words["card_read"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Claire Dupont")
    expect(page.locator(".documents")).to_contain_text(ALREADY)
    checked.look("record")
    page.get_by_label(words["search_titles"]).fill("bilan CONTROLE")  # any case, without its accent
    page.get_by_role("button", name=words["search"], exact=True).click()
    expect(page.locator("#found")).to_contain_text("bilan CONTROLE")
    expect(page.locator(".documents")).to_contain_text(ALREADY)
    checked.look("search")
    page.get_by_role("link", name=ALREADY).click()
    expect(page.locator("iframe.viewer")).to_be_visible()
    checked.look("document")
    page.get_by_role("link", name=words["back"]).click()

    page.get_by_role("link", name=words["deposit"]).click()
    checked.look("deposit")
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.locator("#title-error")).to_contain_text(words["no_title"])
    checked.look("deposit-refused")
    report = tmp_path / "lettre.pdf"
    report.write_bytes(minimal_pdf("Lettre de liaison"))
    page.get_by_label(words["kind"]).select_option(label=words["report"])
    page.get_by_label(words["type"]).select_option(label=words["consultation"])
    page.get_by_label(words["title"], exact=True).fill("Lettre de liaison")
    page.get_by_label(words["act_date"]).fill("2026-06-01")
    page.get_by_label(words["file"], exact=True).set_input_files(report)
    page.get_by_role("button", name=words["submit"]).click()
    expect(page.locator(".done")).to_contain_text(words["deposited"])
    expect(page.locator(".facts")).to_contain_text("Lettre de liaison")
    checked.look("deposited")
    page.get_by_role("link", name=words["open"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Lettre de liaison")
    page.get_by_role("link", name=words["back"]).click()
    expect(page.locator(".documents")).to_contain_text("Lettre de liaison")

    page.get_by_role("link", name=words["summary"]).click()
    page.get_by_role("link", name=words["add_allergy"]).click()
    checked.look("profile-add")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator("#substance-error")).to_contain_text(words["no_substance"])
    checked.look("profile-add-refused")
    page.get_by_label(words["reacts"]).fill("Pénicilline")
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".done")).to_contain_text(words["added"])
    expect(page.locator(".profile")).to_contain_text("Pénicilline")
    checked.look("profile-added")

    page.get_by_role("link", name=words["find_patient"]).click()
    page.get_by_label(words["ins"]).fill(other.ins)
    page.get_by_role("button", name=words["find"]).click()
    page.get_by_role("button", name=words["declare"]).click()
    checked.look("emergency")
    page.get_by_role("button", name=words["declare_now"]).click()
    expect(page.locator("#justification-error")).to_contain_text(words["write_why"])
    checked.look("emergency-refused")
    page.get_by_label(words["why"]).fill("Patient inconscient aux urgences, aucun proche joignable.")
    page.get_by_role("button", name=words["declare_now"]).click()
    banner = page.locator(".emergency-banner")
    expect(banner).to_contain_text(words["banner"])
    expect(page.get_by_role("heading", level=1)).to_have_text("Claire Dupont")
    checked.look("emergency-record")
    page.get_by_role("link", name=words["find_patient"]).click()
    expect(banner).to_contain_text(words["banner"])  # every page of the space, for the whole episode
    checked.look("home-in-emergency")
    context.close()
