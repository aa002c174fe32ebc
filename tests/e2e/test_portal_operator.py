"""The operator's journey in chromium, at 360x740 and 1280x800, in French and in English.

An operator signs in with their TOTP code (a wrong code first), reads the campaign's figures and this week's
openings by region, downloads the pharmacies' remuneration as CSV, checks the audit trail, and changes a cell
of the access matrix (without a reason first), then signs out. Every page is checked by `Pages.look` (axe-core,
no sideways scroll, no console error, a screenshot).
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from carnet.access import gate
from carnet.access.service import change_matrix
from carnet.identity.operators import ROLES, create_operator
from carnet.kit import clock
from tests.e2e.conftest import DESKTOP, PHONE, Pages, Portal, fresh_code
from tests.e2e.test_portal_patient import _focused, _tab_to
from tests.http_fixtures import PASSWORD, Person
from tests.portal.patients import ready_patient

WORDS = {
    "fr": {
        "operators": "Exploitants",
        "sign_in": "Se connecter",
        "wrong": "L'identifiant, le mot de passe ou le code est incorrect.",
        "space": "Espace exploitant",
        "statistics": "Statistiques",
        "opened": "Dossiers ouverts",
        "count_per": "Compter par",
        "group_by": "Regrouper par",
        "from": "Du",
        "to": "Au",
        "show": "Afficher",
        "region": "Région de résidence",
        "week_of": "Semaine du",
        "back": "Retour aux statistiques",
        "remuneration": "Rémunération des pharmacies",
        "csv": "Télécharger en CSV",
        "audit": "Traces des accès",
        "verify": "Vérifier les traces maintenant",
        "intact": "Les traces sont intactes.",
        "matrix": "Matrice d'accès",
        "change": "Modifier une case",
        "profession": "Profession de santé",
        "kind": "Catégorie de document",
        "may_read": "peut lire ce type de document",
        "reason": "Motif de la modification",
        "make": "Faire la modification",
        "reason_needed": "donne un motif (10 caractères au moins)",
        "in_force": "de la matrice est en vigueur.",
        "sign_out": "Se déconnecter",
        "signed_out": "Vous êtes déconnecté.",
    },
    "en": {
        "operators": "Operators",
        "sign_in": "Sign in",
        "wrong": "The login, the password or the code is wrong.",
        "space": "Operator space",
        "statistics": "Statistics",
        "opened": "Records opened",
        "count_per": "Count per",
        "group_by": "Group by",
        "from": "From",
        "to": "To",
        "show": "Show",
        "region": "Region",
        "week_of": "Week of",
        "back": "Back to the statistics",
        "remuneration": "Pharmacy remuneration",
        "csv": "Download as CSV",
        "audit": "Audit trail",
        "verify": "Verify the trail now",
        "intact": "The trail is intact.",
        "matrix": "Access matrix",
        "change": "Change a cell",
        "profession": "Profession",
        "kind": "Kind of document",
        "may_read": "may read this kind of document",
        "reason": "Reason for the change",
        "make": "Make the change",
        "reason_needed": "gives a reason (10 characters at least)",
        "in_force": "of the matrix is in force.",
        "sign_out": "Sign out",
        "signed_out": "You are signed out.",
    },
}
SIZES = {"phone": PHONE, "desktop": DESKTOP}
COMBINATIONS = [(lang, size) for lang in ("fr", "en") for size in SIZES]
# The cell the journey changes, put back after it: an ocularist reading administrative documents.
PROFESSION, CLASS = "84", "95"


@pytest.fixture
def operator(portal: Portal) -> Iterator[tuple[str, str]]:
    """An operator with every role (login, TOTP secret); the matrix cell the journey changes is put back."""
    login = f"ops-{uuid.uuid4().hex[:8]}"
    with portal.runtime.unit_of_work() as ctx:
        created = create_operator(ctx, login=login, password=PASSWORD, roles=sorted(ROLES))
        before = gate.matrix(ctx).allows(PROFESSION, CLASS)
    yield login, created.totp_secret
    with portal.runtime.unit_of_work() as ctx:
        if gate.matrix(ctx).allows(PROFESSION, CLASS) != before:
            change_matrix(
                ctx,
                operator="tests",
                profession=PROFESSION,
                class_code=CLASS,
                allow=before,
                reason="put back after the journey",
            )


def _open(browser: Browser, portal: Portal, size: str, lang: str) -> Page:
    context = browser.new_context(base_url=portal.url, viewport=SIZES[size], locale="fr-FR", accept_downloads=True)
    context.add_cookies([{"name": "carnet_lang", "value": lang, "url": portal.url}])
    return context.new_page()


def _sign_in(checked: Pages, words: dict[str, str], login: str, secret: str) -> None:
    page = checked.page
    page.locator("#login").fill(login)
    page.locator("#password").fill(PASSWORD)
    page.locator("#code").fill("000000" if fresh_code(secret) != "000000" else "111111")
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.locator("#password-error")).to_contain_text(words["wrong"])
    expect(page.locator("#login")).to_have_value(login)
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("#code")).to_have_value("")
    checked.look("operator-sign-in-wrong-code")
    page.locator("#password").fill(PASSWORD)
    page.locator("#code").fill(fresh_code(secret))
    page.get_by_role("button", name=words["sign_in"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["space"])


@pytest.mark.parametrize(("lang", "size"), COMBINATIONS, ids=[f"{lang}-{size}" for lang, size in COMBINATIONS])
def test_the_operators_journey(
    browser: Browser, axe: Axe, portal: Portal, person: Person, operator: tuple[str, str], lang: str, size: str
) -> None:
    words = WORDS[lang]
    login, secret = operator
    ready_patient(portal.runtime, person)  # a record opened at a pharmacy this week, for a patient of Nantes
    page = _open(browser, portal, size, lang)
    checked = Pages(page, axe, f"{lang}-{size}-operator", SIZES[size]["width"])
    menu = page.get_by_role("navigation", name=words["space"])

    page.goto("/")
    page.get_by_role("link", name=words["operators"]).click()
    checked.look("operator-sign-in")
    _sign_in(checked, words, login, secret)
    checked.look("operator-home")

    menu.get_by_role("link", name=words["statistics"]).click()
    expect(page.locator("svg.chart[role=img]")).to_be_visible()
    checked.look("operator-statistics")
    page.get_by_role("main").get_by_role("link", name=words["opened"]).click()
    today = clock.today().isoformat()
    page.get_by_label(words["count_per"]).select_option("week")
    page.get_by_label(words["group_by"]).select_option("region")
    page.get_by_label(words["from"], exact=True).fill(today)
    page.get_by_label(words["to"], exact=True).fill(today)
    page.get_by_role("button", name=words["show"]).click()
    table = page.locator("table.figures")
    expect(table.locator("thead")).to_contain_text(words["region"])
    expect(table.locator("tbody tr").filter(has_text="Pays de la Loire").first).to_contain_text(words["week_of"])
    expect(page.locator("svg.chart")).to_contain_text("Pays de la Loire")
    checked.look("operator-openings-by-region")

    page.get_by_role("link", name=words["back"]).click()
    page.get_by_role("main").get_by_role("link", name=words["remuneration"]).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["remuneration"])
    checked.look("operator-remuneration")
    with page.expect_download() as downloaded:
        page.get_by_role("link", name=words["csv"]).click()
    download = downloaded.value
    assert re.fullmatch(r"remuneration-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert rows and all(row["amount"] == f"{int(row['openings'])}.00" for row in rows)

    menu.get_by_role("link", name=words["audit"]).click()
    checked.look("operator-audit")
    page.get_by_role("button", name=words["verify"]).click()
    expect(page.locator(".done")).to_contain_text(words["intact"])
    checked.look("operator-audit-verified")

    menu.get_by_role("link", name=words["matrix"]).click()
    expect(page.locator("table.grid")).to_be_visible()
    checked.look("operator-matrix")
    page.get_by_role("link", name=words["change"]).click()
    page.get_by_label(words["profession"], exact=True).select_option(PROFESSION)
    page.get_by_label(words["kind"], exact=True).select_option(CLASS)
    page.get_by_label(words["may_read"], exact=True).check()
    page.get_by_label(words["reason"]).fill("court")
    page.get_by_role("button", name=words["make"]).click()
    expect(page.locator("#reason-error")).to_contain_text(words["reason_needed"])
    expect(page.locator("#reason")).to_have_value("court")
    checked.look("operator-matrix-change-no-reason")
    page.get_by_label(words["reason"]).fill("Décision du comité d'accès, parcours de test")
    page.get_by_role("button", name=words["make"]).click()
    expect(page.locator(".done")).to_contain_text(words["in_force"])
    expect(page.locator(".history li").first).to_contain_text("parcours de test")
    checked.look("operator-matrix-history")

    menu.get_by_role("button", name=words["sign_out"]).click()
    expect(page.locator(".notice")).to_contain_text(words["signed_out"])
    page.goto("/operator/statistics")
    expect(page).to_have_url(re.compile(r"/operator/sign-in\?next=/operator/statistics$"))
    page.context.close()


def test_an_operator_signs_in_with_the_keyboard_alone(
    browser: Browser, axe: Axe, portal: Portal, operator: tuple[str, str]
) -> None:
    login, secret = operator
    page = _open(browser, portal, "desktop", "en")
    checked = Pages(page, axe, "en-keyboard-operator", DESKTOP["width"])
    page.goto("/operator/sign-in")
    _tab_to(page, "login")
    page.keyboard.type(login)
    page.keyboard.press("Tab")
    assert _focused(page) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    assert _focused(page) == "code"
    page.keyboard.type(fresh_code(secret))
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{portal.url}/operator")
    checked.look("operator-keyboard-signed-in")
    page.context.close()
