"""A parent looks after their child's record in chromium, at 360x740 and 1280x800, in French and in English.

The child is covered on the parent's carte Vitale, so the insurer's registry made the parent their legal
representative; from their home page the parent switches to the child's record, reads what representatives may
(not the document a professional kept from them), and comes back to their own. Every page is checked by
`Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code, menu_link
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import KEPT_FROM_PARENTS, SHOWN_TO_PARENTS, activated_patient, child_covered_on_the_card

WORDS = {
    "fr": {
        "continue": "Continuer",
        "sign_in": "Se connecter",
        "looks_after": "Vous vous occupez aussi du dossier d'un enfant que vous représentez : changer de dossier",
        "records": "Les dossiers dont vous vous occupez",
        "show_child": "Afficher le dossier de Léa",
        "child_home": "Le dossier de Léa",
        "banner": "Vous consultez le dossier d'un enfant que vous représentez.",
        "documents": "Documents",
        "back": "Revenir à votre dossier",
        "hello": "Bonjour Claire",
    },
    "en": {
        "continue": "Continue",
        "sign_in": "Sign in",
        "looks_after": "You also look after the record of a child you represent: switch record",
        "records": "Records you look after",
        "show_child": "Show Léa's record",
        "child_home": "The record of Léa",
        "banner": "You are looking at the record of a child you represent.",
        "documents": "Documents",
        "back": "Back to your record",
        "hello": "Hello Claire",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_a_parent_switches_to_their_childs_record_and_back(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str
) -> None:
    words = WORDS[lang]
    account = activated_patient(portal.runtime, person, f"parent-{uuid.uuid4().hex[:8]}")
    child_covered_on_the_card(portal.runtime, person)
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"representing-{lang}-{size}", SIZES[size]["width"])

    page.goto("/patient/sign-in")
    page.locator("#login").fill(account.login)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name=words["continue"]).click()
    page.locator("#code").fill(fresh_code(account.totp_secret))
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    checked.look("home-looks-after")

    page.get_by_role("link", name=words["looks_after"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["records"])
    checked.look("records")
    page.get_by_role("button", name=words["show_child"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["child_home"])
    banner = page.get_by_role("region", name=None).filter(has_text=words["banner"])
    expect(banner).to_be_visible()
    checked.look("child-home")

    menu_link(page, words["documents"])
    expect(page.locator(".documents")).to_contain_text(SHOWN_TO_PARENTS)
    expect(page.locator("main")).not_to_contain_text(KEPT_FROM_PARENTS)
    expect(page.get_by_text(words["banner"])).to_be_visible()  # on every page of the visit
    checked.look("child-documents")

    page.get_by_role("button", name=words["back"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["hello"])
    expect(page.get_by_text(words["banner"])).to_have_count(0)
    checked.look("home-again")
    context.close()
