"""The health summary over HTTP on the real services: entries read as written, added through the profile service."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from carnet.access.actor import Actor
from carnet.fhir.codes import LOINC, UCUM
from carnet.identity import sessions
from carnet.records.models import ProfileEntry
from carnet.records.profile import list_profile
from carnet.runtime import Runtime
from tests.http_fixtures import Person
from tests.portal.forms import field_error, post, summary_links, unescaped
from tests.portal.signed_in import signed_in, written_by_a_professional

Client = Callable[..., TestClient]
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"


def _status(system: str, code: str) -> dict[str, object]:
    return {"coding": [{"system": f"{TERMINOLOGY}{system}", "code": code}]}


def _section(page: str, key: str) -> str:
    return page.split(f'<h2 id="{key}"', 1)[1].split("</section>", 1)[0]


def _entries(runtime: Runtime, patient_id: uuid.UUID) -> int:
    with runtime.unit_of_work() as ctx:
        return int(ctx.session.scalar(select(func.count()).where(ProfileEntry.patient_id == patient_id)) or 0)


def test_the_summary_shows_statuses_as_written(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    allergy = {"resourceType": "AllergyIntolerance", "clinicalStatus": _status("allergyintolerance-clinical", "active")}
    refuted = {**allergy, "verificationStatus": _status("allergyintolerance-verification", "refuted")}
    written_by_a_professional(runtime, me.patient_id, {**refuted, "code": {"text": "Amoxicilline"}})
    unsure = {**allergy, "verificationStatus": _status("allergyintolerance-verification", "unconfirmed")}
    written_by_a_professional(runtime, me.patient_id, {**unsure, "code": {"text": "Latex"}})
    in_error = {**allergy, "verificationStatus": _status("allergyintolerance-verification", "entered-in-error")}
    written_by_a_professional(runtime, me.patient_id, {**in_error, "code": {"text": "Arachide saisie à tort"}})
    nka = {"coding": [{"system": "http://snomed.info/sct", "code": "716186003"}]}
    written_by_a_professional(runtime, me.patient_id, {**allergy, "code": nka})
    weight = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "29463-7"}], "text": "Poids"},
        "valueQuantity": {"value": 154.3, "unit": "lb", "system": UCUM, "code": "[lb_av]"},
        "effectiveDateTime": "2026-04",
    }
    written_by_a_professional(runtime, me.patient_id, weight)
    not_done = {
        "resourceType": "Immunization",
        "status": "not-done",
        "statusReason": {"text": "Fièvre le jour du rendez-vous"},
        "vaccineCode": {"text": "Vaccin grippe saisonnière"},
        "occurrenceDateTime": "2025-10-12",
    }
    written_by_a_professional(runtime, me.patient_id, not_done)
    written_by_a_professional(
        runtime, me.patient_id, {**not_done, "status": "entered-in-error", "vaccineCode": {"text": "Vaccin fantôme"}}
    )

    page = me.client.get("/patient/profile")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = unescaped(page.text)
    allergies = unescaped(_section(page.text, "allergies"))
    assert "Amoxicilline" in allergies and "Hypothèse écartée" in allergies.split("Amoxicilline")[1].split("</li>")[0]
    assert "À confirmer" in allergies.split("Latex")[1].split("</li>")[0]
    assert "Aucune allergie connue" in allergies
    assert "Arachide saisie à tort" not in text and "Vaccin fantôme" not in text  # entered in error: not current
    measurements = unescaped(_section(page.text, "measurements"))
    assert "154,3 lb" in measurements and "kg" not in measurements and "avril 2026" in measurements
    assert "Poids" in measurements and "Body weight" not in measurements
    vaccine = unescaped(_section(page.text, "vaccinations")).split("Vaccin grippe saisonnière")[1].split("</li>")[0]
    assert "Non administré" in vaccine and "Fièvre le jour du rendez-vous" in vaccine
    assert "Écrit par un professionnel de santé" in text
    assert "Amoxicilline" not in page.text.split("<title>")[1].split("</title>")[0]


def test_text_from_a_resource_is_shown_as_text_never_as_markup(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    hostile = '<img src=x onerror="alert(1)">Pollen'
    written_by_a_professional(
        runtime,
        me.patient_id,
        {
            "resourceType": "AllergyIntolerance",
            "code": {"text": hostile},
            "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">Résumé narratif</div>'},
        },
    )
    page = me.client.get("/patient/profile").text
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert "Résumé narratif" not in page  # a narrative is never rendered


def test_the_patient_adds_an_allergy_through_the_profile_service(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person, lang="en")
    form = me.client.get("/patient/profile/add/allergy")
    assert form.status_code == 200 and 'name="substance"' in form.text
    form_data = {"substance": "Penicillin", "reaction": "Hives", "type": "allergy", "certainty": "unsure"}
    done = post(me.client, "/patient/profile/add/allergy", {**form_data, "since": "2019-05-02"})
    assert done.status_code == 303 and done.headers["location"] == "/patient/profile?done=added"
    page = me.client.get(done.headers["location"])
    assert "Your entry is saved in your record." in page.text
    item = _section(page.text, "allergies").split("Penicillin")[1].split("</li>")[0]
    assert "Reaction: Hives" in item and "Not confirmed" in item and "Since 2 May 2019" in item
    assert "Added by you" in item
    with runtime.unit_of_work() as ctx:
        (entry,) = list_profile(ctx, Actor.patient(me.patient_id), me.patient_id, kind="allergy")
    assert entry.source_class == "90" and entry.author_kind == "patient"
    assert entry.resource["code"] == {"text": "Penicillin"} and entry.resource["onsetDateTime"] == "2019-05-02"
    assert entry.resource["verificationStatus"]["coding"][0]["code"] == "unconfirmed"


def test_a_weight_in_pounds_is_kept_in_pounds_with_its_digits(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    done = post(
        me.client, "/patient/profile/add/weight", {"value": "150,50", "unit": "lb", "measured_on": "2026-05-01"}
    )
    assert done.status_code == 303, done.text
    measurements = unescaped(_section(me.client.get("/patient/profile").text, "measurements"))
    assert "150,50 lb" in measurements and "1 mai 2026" in measurements
    assert "Poids" in measurements and "Body weight" not in measurements  # named in the reader's words
    with runtime.unit_of_work() as ctx:
        (entry,) = list_profile(ctx, Actor.patient(me.patient_id), me.patient_id, kind="weight")
    assert entry.resource["valueQuantity"]["code"] == "[lb_av]"
    assert str(entry.resource["valueQuantity"]["value"]) == "150.50"


def test_a_field_failing_the_schema_is_shown_beside_it_and_nothing_is_stored(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    refused = post(
        me.client, "/patient/profile/add/weight", {"value": "soixante", "unit": "kg", "measured_on": "2026-05-01"}
    )
    assert refused.status_code == 400
    assert field_error(refused, "value") == "Saisissez un nombre, par exemple 72,5."
    assert summary_links(refused) == ["value"]
    assert 'value="soixante"' in refused.text and 'value="2026-05-01"' in refused.text  # what was typed stays
    bad_day = post(me.client, "/patient/profile/add/vaccination", {"vaccine": "DTP", "administered_on": "2026-02-30"})
    assert (
        unescaped(field_error(bad_day, "administered_on")) == "Saisissez une date qui existe, par exemple 14/03/2024."
    )
    future = post(me.client, "/patient/profile/add/vaccination", {"vaccine": "DTP", "administered_on": "2099-01-01"})
    assert future.status_code == 422 and field_error(future, "administered_on") == "Cette date est dans le futur."
    missing = post(me.client, "/patient/profile/add/allergy", {"reaction": "Toux", "type": "allergy"})
    assert missing.status_code == 422
    assert unescaped(field_error(missing, "substance")) == "Saisissez ce à quoi vous réagissez."
    assert "Toux" in missing.text
    phone = post(
        me.client, "/patient/profile/add/emergency_contact", {"name": "Léa", "relation": "Fille", "phone": "abc"}
    )
    assert field_error(phone, "phone").startswith("Saisissez un numéro de téléphone")
    assert _entries(runtime, me.patient_id) == 0


def test_each_form_stores_its_resource(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    forms = {
        "treatment": {"medication": "Lévothyrox 50 µg", "dosage": "1 comprimé le matin", "since": "2020-01-15"},
        "height": {"value": "168", "unit": "cm", "measured_on": "2026-01-10"},
        "vaccination": {"vaccine": "Vaccin tétanos", "administered_on": "2024-03-14", "lot": "AB123"},
        "advance_directive": {
            "text": "Pas d'acharnement thérapeutique.",
            "written_on": "2025-06-01",
            "trusted_person": "Paul Durand",
        },
        "organ_donation": {"choice": "accepts", "note": ""},
        "emergency_contact": {"name": "Léa Dupont", "relation": "Fille", "phone": "06 12 34 56 78"},
        "medical_history": {"condition": "Asthme", "ongoing": "no", "since": "1998", "note": ""},
        "surgical_history": {"procedure": "Appendicectomie", "performed_on": "2010-07-03"},
        "family_history": {"relation": "Mère", "condition": "Diabète de type 2"},
        "blood_pressure": {"systolic": "128", "diastolic": "82", "measured_on": "2026-02-01"},
        "blood_group": {"group": "AB-"},
        "care_team": {"name": "Dr Anne Moreau", "profession": "10", "role": "Cardiologue", "phone": ""},
    }
    for kind, data in forms.items():
        done = post(me.client, f"/patient/profile/add/{kind}", data)
        assert done.status_code == 303, (kind, done.text)
    page = unescaped(me.client.get("/patient/profile").text)
    for shown in (
        "Lévothyrox 50 µg",
        "1 comprimé le matin",
        "168 cm",
        "Vaccin tétanos",
        "Lot : AB123",
        "Pas d'acharnement thérapeutique.",
        "Personne de confiance : Paul Durand",
        "Vous acceptez de donner vos organes",
        "Léa Dupont",
        "0612345678",
        "Ne se manifeste plus",
        "Depuis 1998",
        "Appendicectomie",
        "3 juillet 2010",
        "Dans la famille",
        "Diabète de type 2",
        "128/82 mmHg",
        "AB-",
        "Dr Anne Moreau",
        "Cardiologue",
    ):
        assert shown in page, shown
    assert _entries(runtime, me.patient_id) == len(forms)


def test_the_patient_removes_an_entry_they_wrote(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    post(me.client, "/patient/profile/add/treatment", {"medication": "Doliprane"})
    page = me.client.get("/patient/profile")
    entry_id = re.search(r'href="/patient/profile/([0-9a-f-]+)/remove"', page.text)
    assert entry_id
    path = f"/patient/profile/{entry_id.group(1)}/remove"
    # The link asks first: the page names the entry and says what removing does; nothing is removed yet.
    asked = me.client.get(path)
    assert asked.status_code == 200 and "Doliprane" in asked.text
    assert "Retirer cette information ?" in unescaped(asked.text) and "historique" in asked.text
    unconfirmed = post(me.client, path, {}, token_from=path)  # a form without the confirmation's button
    assert unconfirmed.status_code == 200 and "Retirer cette information ?" in unescaped(unconfirmed.text)
    assert "Doliprane" in me.client.get("/patient/profile").text
    assert (
        post(me.client, f"/patient/profile/{uuid.uuid4()}/remove", {"confirm": "yes"}, token_from=path).status_code
        == 404
    )
    assert me.client.get(f"/patient/profile/{uuid.uuid4()}/remove").status_code == 404
    removed = post(me.client, path, {"confirm": "yes"}, token_from=path)
    assert removed.headers["location"] == "/patient/profile?done=removed"
    after = me.client.get(removed.headers["location"]).text
    assert "Doliprane" not in after and "information est retirée" in unescaped(after)
    assert _entries(runtime, me.patient_id) == 1  # kept, no longer current


def test_the_forms_need_a_session_and_their_token(client_for: Client, runtime: Runtime, person: Person) -> None:
    stranger = client_for()
    assert stranger.get("/patient/profile", follow_redirects=False).headers["location"] == (
        "/patient/sign-in?next=/patient/profile"
    )
    me = signed_in(client_for, runtime, person)
    forged = me.client.post("/patient/profile/add/treatment", data={"medication": "X"}, follow_redirects=False)
    assert forged.status_code == 403 and _entries(runtime, me.patient_id) == 0
    assert me.client.get("/patient/profile/add/nothing").status_code == 404


def test_the_patient_changes_an_entry_they_wrote(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    post(me.client, "/patient/profile/add/weight", {"value": "72,5", "unit": "kg", "measured_on": "2026-05-01"})
    found = re.search(r'href="/patient/profile/([0-9a-f-]+)/change"', me.client.get("/patient/profile").text)
    assert found
    path = f"/patient/profile/{found.group(1)}/change"
    form = me.client.get(path)
    assert 'value="72.5"' in form.text and 'value="2026-05-01"' in form.text and 'value="kg" checked' in form.text
    refused = post(me.client, path, {"value": "lourd", "unit": "kg", "measured_on": "2026-05-01"})
    assert refused.status_code == 400 and field_error(refused, "value").startswith("Saisissez un nombre")
    changed = post(me.client, path, {"value": "71", "unit": "kg", "measured_on": "2026-05-02"})
    assert changed.headers["location"] == "/patient/profile?done=changed"
    measurements = unescaped(_section(me.client.get("/patient/profile").text, "measurements"))
    assert "71 kg" in measurements and "72,5" not in measurements
    with runtime.unit_of_work() as ctx:
        kept = list_profile(ctx, Actor.patient(me.patient_id), me.patient_id, kind="weight", include_retired=True)
    assert sorted(e.status for e in kept) == ["active", "retired"]  # the first weight is kept, no longer current


def test_an_entry_a_professional_wrote_cannot_be_changed_by_the_patient(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    entry_id = written_by_a_professional(
        runtime, me.patient_id, {"resourceType": "AllergyIntolerance", "code": {"text": "Iode"}}
    )
    page = me.client.get("/patient/profile").text
    assert f"/patient/profile/{entry_id}/change" not in page and f"/patient/profile/{entry_id}/remove" not in page
    assert me.client.get(f"/patient/profile/{entry_id}/change").status_code == 404
    assert me.client.get(f"/patient/profile/{entry_id}/remove").status_code == 404
    refused = post(
        me.client, f"/patient/profile/{entry_id}/change", {"substance": "Rien"}, token_from="/patient/profile"
    )
    assert refused.status_code in (403, 404)
    assert "Iode" in me.client.get("/patient/profile").text


def test_no_known_allergy_reads_as_that(client_for: Client, runtime: Runtime, person: Person) -> None:
    me = signed_in(client_for, runtime, person)
    unconfirmed = post(me.client, "/patient/profile/add/no_known_allergy", {})
    assert unconfirmed.status_code == 422 and field_error(unconfirmed, "confirm").startswith("Confirmez")
    done = post(me.client, "/patient/profile/add/no_known_allergy", {"confirm": "none"})
    assert done.status_code == 303
    allergies = unescaped(_section(me.client.get("/patient/profile").text, "allergies"))
    assert "Aucune allergie connue" in allergies and "Allergie</p>" not in allergies


def test_a_professional_is_named_by_profession_never_by_its_code(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person, lang="en")
    post(me.client, "/patient/profile/add/care_team", {"name": "Dr Anne Moreau", "profession": "21"})
    item = _section(me.client.get("/patient/profile").text, "professionals").split("Dr Anne Moreau")[1]
    assert "Pharmacist" in item.split("</li>")[0] and ">21<" not in item


def test_a_form_sent_twice_adds_one_entry_and_a_refused_send_leaves_its_key_free(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    me = signed_in(client_for, runtime, person)
    before = _entries(runtime, me.patient_id)
    form = me.client.get("/patient/profile/add/vaccination").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    key = re.search(r'name="form_key" value="([0-9a-f-]{36})"', form)
    assert token and key
    sent = {"csrf_token": token.group(1), "form_key": key.group(1), "vaccine": "DTP"}
    refused = me.client.post(
        "/patient/profile/add/vaccination", data={**sent, "administered_on": "2099-01-01"}, follow_redirects=False
    )
    assert refused.status_code == 422 and f'value="{key.group(1)}"' in refused.text  # the same form, the same key
    first = me.client.post(
        "/patient/profile/add/vaccination", data={**sent, "administered_on": "2024-03-01"}, follow_redirects=False
    )
    again = me.client.post(
        "/patient/profile/add/vaccination", data={**sent, "administered_on": "2024-03-01"}, follow_redirects=False
    )
    assert (first.status_code, again.status_code) == (303, 303)
    assert again.headers["location"] == first.headers["location"] == "/patient/profile?done=added"
    assert _entries(runtime, me.patient_id) == before + 1
    other = re.search(
        r'name="form_key" value="([0-9a-f-]{36})"', me.client.get("/patient/profile/add/vaccination").text
    )
    assert other and other.group(1) != key.group(1)  # each page of the form has its own key


def test_a_form_key_is_claimed_once_per_key(runtime: Runtime) -> None:
    subject = uuid.uuid4()
    with runtime.unit_of_work() as ctx:
        assert sessions.first_submission(ctx.session, "k-1", subject)
        assert not sessions.first_submission(ctx.session, "k-1", subject)
        assert sessions.first_submission(ctx.session, "k-2", subject)
    with runtime.unit_of_work() as ctx:
        assert not sessions.first_submission(ctx.session, "k-1", subject)
