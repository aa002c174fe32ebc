"""The pharmacy counter and the insurance desk in chromium, at 360x740 and 1280x800, in French and in English.

A pharmacist reads a newcomer's carte Vitale (the simulated card signs), is told there is no record, opens one
after the form refused a typo (the card is not read again), prints the activation letter (a PDF) and sees what
the pharmacy has earned. A desk agent opens a record the same way, then reads the card of a patient whose record
holds documents, gives a new activation code and links the patient's child: no page shows anything of the
documents. Every page is checked by `Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import date

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from carnet.kit import clock
from carnet.records.documents import deposit_document
from carnet.synthetic import minimal_pdf
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, menu_link
from tests.factories import IDENTITY, SYSTEM, document_meta, finess, new_ins, open_test_record
from tests.portal.professionals import listed
from tests.portal.pros import Holder, holder

WORDS = {
    "fr": {
        "sign_in": "Se connecter",
        "who": "Qui vous êtes",
        "finess": "Le numéro FINESS de votre pharmacie",
        "staff_id": "Votre identifiant d'agent",
        "office": "Le code de votre accueil",
        "nir": "Numéro de sécurité sociale de la carte",
        "signs": "La carte signe",
        "no_record": "Ouvrir le dossier de la personne",
        "family": "Nom de famille",
        "given": "Prénoms",
        "born": "Date de naissance",
        "sex": "Sexe",
        "female": "Féminin",
        "postcode": "Code postal du domicile de la personne",
        "agrees": "La personne accepte l'ouverture de son dossier médical partagé.",
        "open": "Ouvrir le dossier",
        "past": "doit être dans le passé",
        "opened": "Le dossier est ouvert",
        "letter": "Imprimer la lettre (PDF)",
        "earnings": "Ce que la pharmacie a perçu",
        "next": "Personne suivante",
        "ready": "Prêt pour la personne suivante",
        "has_record": "Cette personne a déjà un dossier",
        "new_code": "Donner un nouveau code d'activation",
        "code_ready": "Un nouveau code d'activation est prêt",
        "link": "Rattacher son enfant mineur",
        "child_ins": "L'INS de l'enfant",
        "child_born": "La date de naissance de l'enfant",
        "papers": "J'ai vu les pièces",
        "make_link": "Faire le rattachement",
        "no_child": "Aucun dossier d'enfant ne correspond",
        "linked": "Le rattachement est fait",
    },
    "en": {
        "sign_in": "Sign in",
        "who": "Who you are",
        "finess": "Your pharmacy's FINESS number",
        "staff_id": "Your staff id",
        "office": "Your office's code",
        "nir": "Social security number on the card",
        "signs": "The card signs",
        "no_record": "Open the person's record",
        "family": "Family name",
        "given": "First names",
        "born": "Date of birth",
        "sex": "Sex",
        "female": "Female",
        "postcode": "Postcode of the person's home",
        "agrees": "The person agrees that their shared medical record is opened.",
        "open": "Open the record",
        "past": "must be in the past",
        "opened": "The record is opened",
        "letter": "Print the letter (PDF)",
        "earnings": "What the pharmacy has earned",
        "next": "Next person",
        "ready": "Ready for the next person",
        "has_record": "This person already has a record",
        "new_code": "Give a new activation code",
        "code_ready": "A new activation code is ready",
        "link": "Link their minor child",
        "child_ins": "The child's INS",
        "child_born": "The child's date of birth",
        "papers": "I have seen the papers",
        "make_link": "Make the link",
        "no_child": "No child's record matches",
        "linked": "The link is made",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]
IDS = [f"{lang}-{size}" for lang, size in COMBINATIONS]


def _read(page: Page, checked: Pages, words: dict[str, str], nir: str, name: str) -> None:
    page.get_by_label(words["nir"]).fill(nir)
    page.get_by_role("button", name=words["signs"]).click()
    checked.look(name)


def _open(page: Page, checked: Pages, words: dict[str, str]) -> None:
    """The identity with a typo first (a birth date in the future): refused beside the field, then corrected."""
    expect(page.get_by_role("heading", level=1)).to_have_text(words["no_record"])
    page.get_by_label(words["family"]).fill("Durand")
    page.get_by_label(words["given"]).fill("Lucie")
    page.get_by_label(words["born"]).fill("02/07/2091")
    page.get_by_label(words["sex"]).select_option(label=words["female"])
    page.get_by_label(words["postcode"]).fill("69003")
    page.get_by_label(words["agrees"]).check()
    page.get_by_role("button", name=words["open"]).click()
    expect(page.locator("#birth_date-error")).to_contain_text(words["past"])
    expect(page.get_by_label(words["family"])).to_have_value("Durand")  # what was typed stays
    checked.look("open-refused")
    page.get_by_label(words["born"]).fill("02/07/1991")
    page.get_by_label(words["agrees"]).check()
    page.get_by_role("button", name=words["open"]).click()
    expect(page.locator(".done")).to_contain_text(words["opened"])
    expect(page.locator("code.code")).to_have_text(re.compile(r"\S{4,}"))
    checked.look("opened")


def _print_letter(page: Page, words: dict[str, str], path: str) -> None:
    letter = page.context.expect_event("response", predicate=lambda r: r.url.endswith(path))
    with page.context.expect_page() as popup, letter as answer:
        page.get_by_role("button", name=words["letter"]).click()
    response = answer.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    # chromium shows it in its PDF viewer (the bytes themselves are checked in tests/portal/test_counter.py)
    popup.value.close()


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=IDS)
def test_a_pharmacist_opens_a_record_and_prints_the_letter(
    browser: Browser, axe: Axe, portal: Portal, lang: str, size: str
) -> None:
    words = WORDS[lang]
    person = listed(portal.runtime, "Aabel", "21")  # first in the picker, which lists the directory by name
    newcomer = holder(portal.runtime, with_record=False)
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"{lang}-{size}-counter", SIZES[size]["width"])

    page.goto("/staff/sign-in?space=pharmacy")
    page.get_by_label(words["who"]).select_option(value=person.rpps)
    page.get_by_label(words["finess"]).fill(finess(random.randrange(100_000, 999_999)))  # its own earnings
    checked.look("sign-in")
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page).to_have_url(f"{portal.url}/counter")
    checked.look("home")
    _read(page, checked, words, newcomer.ins[:13], "no-record")
    _open(page, checked, words)
    _print_letter(page, words, "/counter/letter")
    menu_link(page, words["earnings"])
    expect(page.locator("table")).to_contain_text("1,00" if lang == "fr" else "1.00")
    checked.look("earnings")
    context.close()


def _family(portal: Portal, secrets: list[str]) -> tuple[Holder, str, date]:
    parent = holder(portal.runtime)
    assert parent.patient_id is not None
    child_ins, born = new_ins(), date(clock.today().year - 7, 9, 3)
    with portal.runtime.unit_of_work() as ctx:
        open_test_record(ctx, ins=child_ins, identity=IDENTITY.model_copy(update={"birth_date": born}))
        for secret in secrets:
            deposit_document(ctx, SYSTEM, parent.patient_id, document_meta(title=secret), minimal_pdf(secret))
    return parent, child_ins, born


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=IDS)
def test_a_desk_agent_opens_a_record_links_a_child_and_sees_nothing_medical(
    browser: Browser, axe: Axe, portal: Portal, lang: str, size: str
) -> None:
    words = WORDS[lang]
    tag = uuid.uuid4().hex[:8]
    secrets = [f"Compte rendu opératoire {tag}", f"Sérologie VIH {tag}"]
    parent, child_ins, born = _family(portal, secrets)
    newcomer = holder(portal.runtime, with_record=False)
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"{lang}-{size}-desk", SIZES[size]["width"])
    shown: list[str] = []

    page.goto("/staff/sign-in?space=desk")
    page.get_by_label(words["staff_id"]).fill(f"AG{tag}")
    page.get_by_label(words["office"]).fill("CPAM44")
    checked.look("sign-in")
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page).to_have_url(f"{portal.url}/desk")
    checked.look("home")
    _read(page, checked, words, newcomer.ins, "no-record")
    _open(page, checked, words)
    _print_letter(page, words, "/desk/letter")
    page.get_by_role("button", name=words["next"]).click()
    expect(page.locator(".done")).to_contain_text(words["ready"])

    _read(page, checked, words, parent.ins, "has-record")
    expect(page.locator(".done")).to_contain_text(words["has_record"])
    shown.append(page.content())
    page.get_by_role("button", name=words["new_code"]).click()
    expect(page.locator(".done")).to_contain_text(words["code_ready"])
    checked.look("new-code")
    shown.append(page.content())
    page.get_by_role("button", name=words["next"]).click()
    _read(page, checked, words, parent.ins, "has-record-again")
    page.get_by_role("button", name=words["link"]).click()
    checked.look("child")
    page.get_by_label(words["child_ins"]).fill(child_ins)
    page.get_by_label(words["child_born"]).fill("01/01/2001")
    page.get_by_label(words["papers"]).check()
    page.get_by_role("button", name=words["make_link"]).click()
    expect(page.locator("#child_ins-error")).to_contain_text(words["no_child"])
    checked.look("child-refused")
    shown.append(page.content())
    page.get_by_label(words["child_born"]).fill(born.strftime("%d/%m/%Y"))
    page.get_by_label(words["papers"]).check()
    page.get_by_role("button", name=words["make_link"]).click()
    expect(page.locator(".done")).to_contain_text(words["linked"])
    checked.look("linked")
    shown.append(page.content())
    for html in shown:
        assert not any(secret in html for secret in secrets)
    context.close()
