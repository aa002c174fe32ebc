"""The patient's control over who reads the record, over HTTP on the real services: each action, each refusal,
and that what the page did is what the gate then applies to the professional."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from carnet.access.actor import Actor, Mode
from carnet.access.schemas import SettingsView
from carnet.access.service import declare_emergency, read_settings
from carnet.kit import clock
from carnet.kit.errors import Forbidden, NotFound
from carnet.notify.service import read_notification_settings
from carnet.portal.web import format_day
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from tests.factories import rpps
from tests.http_fixtures import Person
from tests.portal.forms import field_error, post, summary_links, token_of, unescaped
from tests.portal.professionals import Listed, SignedIn, listed, signed_in

Client = Callable[..., TestClient]
FIND = "/patient/privacy/find"
ACT = "/patient/privacy/professional"


def _act(client: TestClient, action: str, who: Listed | str) -> httpx.Response:
    number = who.rpps if isinstance(who, Listed) else who
    return post(client, ACT, {"action": action, "rpps": number}, token_from="/patient/privacy")


def _reads(runtime: Runtime, patient: SignedIn, who: Listed, mode: Mode = Mode.NORMAL) -> bool:
    """Whether the gate lets this professional list the patient's documents now."""
    with runtime.unit_of_work() as ctx:
        try:
            list_documents(ctx, who.actor(mode), patient.patient_id, DocumentQuery())
        except (Forbidden, NotFound):
            return False
    return True


def _settings(runtime: Runtime, patient: SignedIn) -> SettingsView:
    with runtime.unit_of_work() as ctx:
        return read_settings(ctx, Actor.patient(patient.patient_id), patient.patient_id)


def test_find_by_name_then_authorise_revoke_block_and_unblock(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    doctor = listed(runtime, "Lefèvre")
    empty = client.get("/patient/privacy")
    assert empty.status_code == 200 and empty.headers["cache-control"] == "no-store"
    assert "Aucun professionnel n'a votre autorisation" in unescaped(empty.text)

    found = post(client, FIND, {"q": doctor.name.split(" ", 1)[1].upper()}, token_from=FIND)
    assert found.status_code == 200
    assert doctor.name in found.text and "Médecin" in found.text and "Choisir comme médecin traitant" in found.text
    assert f'value="{doctor.name.split(" ", 1)[1].upper()}"' in found.text  # the search stays in the form
    assert not _reads(runtime, patient, doctor)

    done = _act(client, "authorise", doctor)
    assert done.status_code == 303
    location = done.headers["location"]
    assert location == f"/patient/privacy?done=authorise&rpps={doctor.rpps}" and "Dr" not in location
    shown = unescaped(client.get(location).text)
    assert f"{doctor.name} (médecin) peut désormais consulter votre dossier" in shown
    authorised = shown.split("Professionnels que vous avez autorisés")[1].split("Professionnels que vous avez bloqués")[
        0
    ]
    assert doctor.name in authorised and "Depuis le" in authorised and "Jusqu'au" in authorised
    assert _reads(runtime, patient, doctor)

    revoked = _act(client, "revoke", doctor)
    assert "ne peut plus consulter" in unescaped(client.get(revoked.headers["location"]).text)
    assert not _reads(runtime, patient, doctor)
    twice = _act(client, "revoke", doctor)  # the same form sent again
    assert twice.status_code == 409
    assert unescaped(field_error(twice, "q")) == "Ce professionnel n'a pas d'autorisation à retirer."

    _act(client, "authorise", doctor)
    blocked = _act(client, "block", doctor)
    assert "est bloqué" in unescaped(client.get(blocked.headers["location"]).text)
    assert _settings(runtime, patient).blocked == [doctor.rpps]
    # The page's block is the gate's: refused in normal mode, and in an emergency too.
    assert not _reads(runtime, patient, doctor)
    with runtime.unit_of_work() as ctx, pytest.raises((Forbidden, NotFound)):
        declare_emergency(ctx, doctor.actor(Mode.EMERGENCY), patient.patient_id, "Patient inconscient aux urgences")
    again = _act(client, "block", doctor)
    assert unescaped(field_error(again, "q")) == "Ce professionnel est déjà bloqué."
    refused = _act(client, "authorise", doctor)
    assert "débloquez-le d'abord" in unescaped(field_error(refused, "q"))
    listed_blocked = client.get("/patient/privacy").text.split("Professionnels que vous avez bloqués")[1]
    assert doctor.name in listed_blocked
    blocked_at = _settings(runtime, patient).blocked_since[doctor.rpps]
    assert abs(clock.now() - blocked_at) < timedelta(minutes=1)
    assert f"Bloqué depuis le {format_day(blocked_at, 'fr')}" in unescaped(listed_blocked)  # the day of the block

    unblocked = _act(client, "unblock", doctor)
    assert "n'est plus bloqué" in unescaped(client.get(unblocked.headers["location"]).text)
    assert _settings(runtime, patient).blocked == []
    assert not _reads(runtime, patient, doctor)  # blocking ended the authorisation: it is not back by itself
    not_blocked = _act(client, "unblock", doctor)
    assert unescaped(field_error(not_blocked, "q")) == "Ce professionnel n'est pas bloqué."


def test_a_search_by_rpps_number_finds_the_professional_in_english(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    signed_in(client, runtime, person)
    nurse = listed(runtime, "Garnier", profession="60")
    found = post(client, FIND, {"q": f" {nurse.rpps[:5]} {nurse.rpps[5:]} "}, token_from=FIND)
    assert found.status_code == 200 and nurse.name in found.text and "Nurse" in found.text
    assert "Choose as my regular doctor" not in found.text  # a nurse is nobody's regular doctor


def test_with_htmx_a_search_answers_with_its_part_of_the_page_only(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    """htmx replaces the search and its results in place (hx-post, HX-Request); without it, the whole page."""
    client = client_for()
    signed_in(client, runtime, person)
    doctor = listed(runtime, "Perrin")
    form = client.get(FIND)
    assert 'hx-post="/patient/privacy/find" hx-target="#search"' in form.text
    htmx = {"HX-Request": "true", "HX-Current-URL": f"https://carnet.test{FIND}"}
    data = {"csrf_token": token_of(form), "q": doctor.name.split(" ", 1)[1]}
    part = client.post(FIND, data=data, headers=htmx)
    assert part.status_code == 200 and part.text.lstrip().startswith('<div id="search">')
    assert doctor.name in part.text and "<html" not in part.text and "<nav" not in part.text
    assert part.headers["cache-control"] == "no-store"
    refused = client.post(FIND, data={**data, "q": ""}, headers=htmx)  # the field's message, in the part
    assert refused.status_code == 422 and refused.text.lstrip().startswith('<div id="search">')
    assert field_error(refused, "q") == "Saisissez un nom ou un numéro RPPS."
    whole = client.post(FIND, data=data)
    assert whole.status_code == 200 and "<html" in whole.text and doctor.name in whole.text
    # A session that has ended: the whole window goes to the sign-in page, then back to the search's page.
    client.cookies.delete("carnet_session")
    ended = client.post(FIND, data=data, headers=htmx)
    assert ended.status_code == 204 and ended.headers["hx-redirect"] == f"/patient/sign-in?next={FIND}"


def test_bad_searches_and_unknown_numbers_are_said_beside_the_field(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    empty = post(client, FIND, {"q": "  "}, token_from=FIND)
    assert empty.status_code == 422 and summary_links(empty) == ["q"]
    assert field_error(empty, "q") == "Saisissez un nom ou un numéro RPPS."
    short = post(client, FIND, {"q": "L"}, token_from=FIND)
    assert "au moins 2 lettres" in field_error(short, "q")
    wrong = post(client, FIND, {"q": "12345678901"}, token_from=FIND)  # fails the Luhn check
    assert wrong.status_code == 422 and "11 chiffres" in field_error(wrong, "q")
    assert 'value="12345678901"' in wrong.text
    unknown = rpps(999_998)
    nothing = post(client, FIND, {"q": unknown}, token_from=FIND)
    assert "Aucun professionnel ne correspond" in unescaped(field_error(nothing, "q"))
    nobody = post(client, FIND, {"q": "Personne-de-ce-nom-zz"}, token_from=FIND)
    assert nobody.status_code == 422 and "Aucun professionnel ne correspond" in unescaped(nobody.text)
    forged = _act(client, "authorise", unknown)  # a number nobody looked up
    assert forged.status_code == 404
    assert unescaped(field_error(forged, "q")) == "Aucun professionnel de l'annuaire n'a ce numéro RPPS."
    malformed = _act(client, "block", "123")
    assert malformed.status_code == 422 and "11 chiffres" in field_error(malformed, "q")
    odd = _act(client, "everything", listed(runtime, "Roussel"))
    assert odd.status_code == 422
    assert _settings(runtime, patient).authorisations == [] and _settings(runtime, patient).blocked == []


def test_a_change_without_the_csrf_token_is_refused_and_changes_nothing(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    doctor = listed(runtime, "Chevalier")
    for path, data in (
        (ACT, {"action": "authorise", "rpps": doctor.rpps}),
        ("/patient/privacy/emergency", {"mode": "emergency", "refuse": "yes"}),
        ("/patient/privacy/regular-doctor/remove", {}),
        (FIND, {"q": "Chevalier"}),
        ("/patient/notifications", {"wanted": "new-document:sms"}),
    ):
        refused = client.post(path, data=data, follow_redirects=False)
        assert refused.status_code == 403, path
        assert "Ce formulaire a expiré" in refused.text
    settings = _settings(runtime, patient)
    assert settings.authorisations == [] and not settings.emergency_opt_out


def test_the_regular_doctor_is_chosen_changed_and_removed(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    first, second = listed(runtime, "Bernard"), listed(runtime, "Moreau")
    nurse = listed(runtime, "Petit", profession="60")
    chosen = _act(client, "regular-doctor", first)
    assert "est désormais votre médecin traitant" in unescaped(client.get(chosen.headers["location"]).text)
    assert _settings(runtime, patient).regular_doctor_rpps == first.rpps
    assert _reads(runtime, patient, first)  # the regular doctor needs no other authorisation
    page = client.get("/patient/privacy").text
    assert first.name in page.split('id="doctor"')[1].split("</section>")[0]
    same = _act(client, "regular-doctor", first)
    assert "déjà votre médecin traitant" in unescaped(field_error(same, "q"))
    not_a_doctor = _act(client, "regular-doctor", nurse)
    assert field_error(not_a_doctor, "q") == "Seul un médecin peut être votre médecin traitant."

    _act(client, "regular-doctor", second)
    assert _settings(runtime, patient).regular_doctor_rpps == second.rpps
    assert not _reads(runtime, patient, first)
    removed = post(client, "/patient/privacy/regular-doctor/remove", {}, token_from="/patient/privacy")
    assert removed.headers["location"] == "/patient/privacy?done=no-regular-doctor"
    assert "Vous n'avez plus de médecin traitant" in unescaped(client.get(removed.headers["location"]).text)
    assert _settings(runtime, patient).regular_doctor_rpps is None


def test_emergency_and_regulation_are_refused_each_on_its_own(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    page = unescaped(client.get("/patient/privacy").text)
    assert "24 heures au plus" in page and "médecin régulateur" in page
    assert "Vous autorisez l'accès en urgence." in page and "Vous autorisez l'accès par le centre 15." in page
    refused = post(client, "/patient/privacy/emergency", {"mode": "emergency", "refuse": "yes"}, token_from="/")
    assert refused.headers["location"] == "/patient/privacy?done=emergency-refused"
    after = unescaped(client.get(refused.headers["location"]).text)
    assert "aucun professionnel ne peut consulter votre dossier en urgence" in after
    assert "Vous refusez l'accès en urgence." in after and "Vous autorisez l'accès par le centre 15." in after
    settings = _settings(runtime, patient)
    assert settings.emergency_opt_out and not settings.regulation_opt_out
    stranger = listed(runtime, "Urgentiste")
    with runtime.unit_of_work() as ctx, pytest.raises(Forbidden):
        declare_emergency(ctx, stranger.actor(Mode.EMERGENCY), patient.patient_id, "Patient inconscient, accident")

    post(client, "/patient/privacy/emergency", {"mode": "regulation", "refuse": "yes"}, token_from="/")
    post(client, "/patient/privacy/emergency", {"mode": "emergency", "refuse": "no"}, token_from="/")
    settings = _settings(runtime, patient)
    assert not settings.emergency_opt_out and settings.regulation_opt_out
    odd = post(client, "/patient/privacy/emergency", {"mode": "everything", "refuse": "yes"}, token_from="/")
    assert odd.status_code == 422 and "Il y a un problème" in odd.text


def test_notification_preferences_per_kind_and_channel(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    assert 'href="/patient/notifications"' in client.get("/patient/account").text
    shown = client.get("/patient/notifications")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    checked = set(re.findall(r'value="([a-z-]+:[a-z]+)" checked', shown.text))
    assert checked == {
        "new-document:email",
        "new-accessor:email",
        "emergency-access:email",
        "authorisation-change:email",
        "emergency-access:sms",
    }
    assert "Aucune adresse e-mail n'est enregistrée" in unescaped(shown.text)
    saved = client.post(
        "/patient/notifications",
        data={"csrf_token": client.cookies["carnet_csrf"], "wanted": ["emergency-access:sms", "new-document:email"]},
        follow_redirects=False,
    )
    assert saved.headers["location"] == "/patient/notifications?done=true"
    assert "Vos choix sont enregistrés." in client.get(saved.headers["location"]).text
    with runtime.unit_of_work() as ctx:
        current = read_notification_settings(ctx, Actor.patient(patient.patient_id), patient.patient_id)
    assert current.wanted == ["emergency-access:sms", "new-document:email"]
    forged = post(
        client, "/patient/notifications", {"wanted": "everything:pigeon"}, token_from="/patient/notifications"
    )
    assert forged.status_code == 422 and summary_links(forged) == ["wanted"]
    assert field_error(forged, "wanted").startswith("Quelque chose")
    with runtime.unit_of_work() as ctx:
        unchanged = read_notification_settings(ctx, Actor.patient(patient.patient_id), patient.patient_id)
    assert unchanged.wanted == ["emergency-access:sms", "new-document:email"]
