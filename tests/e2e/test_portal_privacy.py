"""The patient's control of their record in chromium, at 360x740 and 1280x800, in French and in English.

An emergency access made before the visit shows in red on the home page with its reason; then the patient
finds a doctor by name (with the keyboard alone, after an empty search first), authorises and blocks them,
refuses emergency access, chooses their notices, and filters the access history down to the emergencies.
Every page is checked by `Pages.look` (axe-core, no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import re
import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from carnet.access.actor import Actor, Mode
from carnet.access.service import declare_emergency, read_settings
from carnet.identity.directory import set_entry
from carnet.notify.service import read_notification_settings
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code, menu_link
from tests.factories import rpps
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import activated_patient

REASON = "Patiente inconsciente après une chute, aucun proche joignable"
WORDS = {
    "fr": {
        "continue": "Continuer",
        "sign_in": "Se connecter",
        "privacy": "Qui peut voir mon dossier",
        "find": "Trouver un professionnel",
        "search": "Rechercher",
        "empty": "Saisissez un nom ou un numéro RPPS.",
        "authorise": "Autoriser",
        "authorised": "peut désormais consulter votre dossier",
        "block": "Bloquer",
        "blocked": "est bloqué",
        "refuse_emergency": "Refuser l'accès en urgence",
        "emergency_refused": "aucun professionnel ne peut consulter votre dossier en urgence",
        "notices": "Choisir les notifications que vous recevez, par e-mail ou par SMS",
        "sms_new_document": "Par SMS",
        "save": "Enregistrer mes choix",
        "saved": "Vos choix sont enregistrés.",
        "history": "Historique des accès",
        "mode": "Mode d'accès",
        "emergency_mode": "Urgence (bris de glace)",
        "show": "Afficher",
        "reason": "Motif indiqué",
        "nurse": "infirmier",
    },
    "en": {
        "continue": "Continue",
        "sign_in": "Sign in",
        "privacy": "Who can see my record",
        "find": "Find a professional",
        "search": "Search",
        "empty": "Enter a name or an RPPS number.",
        "authorise": "Authorise",
        "authorised": "can now read your record",
        "block": "Block",
        "blocked": "is blocked",
        "refuse_emergency": "Refuse emergency access",
        "emergency_refused": "no professional can read your record in an emergency",
        "notices": "Choose which notices you receive, by e-mail or text message",
        "sms_new_document": "By text message (SMS)",
        "save": "Save my choices",
        "saved": "Your choices are saved.",
        "history": "Access history",
        "mode": "Mode",
        "emergency_mode": "Emergency (break-glass)",
        "show": "Show",
        "reason": "Reason given",
        "nurse": "nurse",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]


def _professional(portal: Portal, family: str, profession: str) -> tuple[str, str]:
    number, name = rpps(uuid.uuid4().int % 999_999 + 1), f"Dr {family} {uuid.uuid4().hex[:6]}"
    with portal.runtime.unit_of_work() as ctx:
        set_entry(ctx.session, operator="test", rpps=number, name=name, profession=profession, email="p@example.org")
    return number, name


def _prepared(portal: Portal, person: Person) -> tuple[uuid.UUID, str, str]:
    """A patient whose account is active (as the activation journey leaves it), with an emergency access."""
    account = activated_patient(portal.runtime, person, f"claire-{uuid.uuid4().hex[:8]}")
    nurse, _ = _professional(portal, "Urgence", "60")
    emergency = Actor.professional(nurse, "60", mode=Mode.EMERGENCY)
    with portal.runtime.unit_of_work() as ctx:
        declare_emergency(ctx, emergency, account.patient_id, REASON)
    with portal.runtime.unit_of_work() as ctx:
        list_documents(ctx, emergency, account.patient_id, DocumentQuery())
    return account.patient_id, account.login, account.totp_secret


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


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_the_patient_controls_who_reads_the_record(
    browser: Browser, axe: Axe, portal: Portal, person: Person, lang: str, size: str
) -> None:
    words = WORDS[lang]
    patient_id, login, secret = _prepared(portal, person)
    doctor, doctor_name = _professional(portal, "Lemaire", "10")
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR")
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    page = context.new_page()
    checked = Pages(page, axe, f"control-{lang}-{size}", SIZES[size]["width"])

    _sign_in(page, words, login, secret)
    expect(page).to_have_url(f"{portal.url}/patient")
    alarm = page.locator("section.alarm[role=alert]")
    expect(alarm).to_contain_text(REASON)
    expect(alarm).to_contain_text(words["nurse"])
    color = alarm.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert color == "rgb(179, 38, 30)", color  # in red
    checked.look("home-news-emergency")

    menu_link(page, words["privacy"])
    expect(page.get_by_role("heading", level=1)).to_have_text(words["privacy"])
    checked.look("privacy")
    page.get_by_role("link", name=words["find"]).click()
    page.get_by_role("button", name=words["search"]).click()
    expect(page.locator("#q-error")).to_contain_text(words["empty"])
    checked.look("find-empty")
    # The keyboard alone: from the top of the page to the search field, a name, Enter, then the first action.
    page.locator("body").focus()
    for _ in range(15):
        page.keyboard.press("Tab")
        if _focused(page) == "q":
            break
    assert _focused(page) == "q", "Tab never reached the search field"
    page.keyboard.type(doctor_name.split(" ", 1)[1])
    page.evaluate("window.carnetSamePage = true")  # gone if the browser loads a new page
    page.keyboard.press("Enter")
    result = page.locator(".people li", has_text=doctor_name)
    expect(result).to_be_visible()
    # htmx put the results in place: the same page, the search field still focused for the next search.
    assert page.evaluate("window.carnetSamePage === true"), "the search reloaded the whole page"
    expect(page.locator("#q")).to_be_focused()
    checked.look("find-results")
    authorise = result.get_by_role("button", name=re.compile(f"^{words['authorise']}"))
    authorise.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#done")).to_contain_text(words["authorised"])
    checked.look("privacy-authorised")

    page.locator(".people li", has_text=doctor_name).get_by_role(
        "button", name=re.compile(f"^{words['block']}")
    ).click()
    expect(page.locator("#done")).to_contain_text(words["blocked"])
    page.get_by_role("button", name=words["refuse_emergency"]).click()
    expect(page.locator("#done")).to_contain_text(words["emergency_refused"])
    checked.look("privacy-blocked-emergency-refused")
    with portal.runtime.unit_of_work() as ctx:
        settings = read_settings(ctx, Actor.patient(patient_id), patient_id)
    assert settings.blocked == [doctor] and settings.emergency_opt_out and not settings.regulation_opt_out

    page.get_by_role("link", name=words["notices"]).click()
    checked.look("notifications")
    page.locator("#new-document-sms").check()
    page.get_by_role("button", name=words["save"]).click()
    expect(page.locator(".done")).to_contain_text(words["saved"])
    expect(page.locator("#new-document-sms")).to_be_checked()
    checked.look("notifications-saved")
    with portal.runtime.unit_of_work() as ctx:
        assert "new-document:sms" in read_notification_settings(ctx, Actor.patient(patient_id), patient_id).wanted

    menu_link(page, words["history"])
    expect(page.locator(".history li").first).to_be_visible()
    checked.look("history")
    page.get_by_label(words["mode"]).select_option("emergency")
    page.get_by_role("button", name=words["show"]).click()
    lines = page.locator(".history li")
    expect(lines.first).to_be_visible()
    expect(page.locator(".history li.alarm .reason")).to_contain_text(f"{words['reason']}")
    expect(page.locator(".history li.alarm .reason")).to_contain_text(REASON)
    assert lines.count() == page.locator(".history li.alarm").count()  # the emergency ones only
    expect(page.get_by_label(words["mode"])).to_have_value("emergency")
    checked.look("history-emergencies")
    context.close()
