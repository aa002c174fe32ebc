"""A professional adds to the patient's health summary: the patient's forms in the professional's words, the
entry authored by them, a form sent twice adding once, a refusal beside its field, deposit-only mode, and a
professional the patient has not authorised refused with nothing stored."""

from __future__ import annotations

import re
import uuid

import httpx

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.records.profile import list_profile
from carnet.records.profile_types import PROFILE_KINDS
from carnet.runtime import Runtime
from tests.portal.forms import field_error, token_of, unescaped
from tests.portal.pros import Client, Pro, holder, pro

KEY = re.compile(r'name="form_key" value="([0-9a-f-]{36})"')


def _patient(runtime: Runtime, doctor: Pro, scope: str | None = "read_write") -> uuid.UUID:
    patient = holder(runtime)
    assert patient.patient_id is not None
    if scope:
        with runtime.unit_of_work() as ctx:
            grant_authorisation(ctx, patient.patient_id, doctor.listed.rpps, scope=scope, via="patient")
    return patient.patient_id


def _send(doctor: Pro, path: str, fields: dict[str, str], key: str | None = None) -> tuple[httpx.Response, str]:
    form = doctor.client.get(path)
    assert form.status_code == 200, form.text[:500]
    found = KEY.search(form.text)
    assert found
    used = key or found.group(1)
    data = {"csrf_token": token_of(form), "form_key": used, **fields}
    return doctor.client.post(path, data=data, follow_redirects=False), used


def _allergies(runtime: Runtime, patient_id: uuid.UUID) -> list[str]:
    with runtime.unit_of_work() as ctx:
        entries = list_profile(ctx, Actor.patient(patient_id), patient_id, kinds=PROFILE_KINDS)
    return [e.author_ref for e in entries if e.kind == "allergy"]


def test_a_doctor_adds_an_allergy_in_their_name_once_however_often_the_form_is_sent(
    client_for: Client, runtime: Runtime
) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _patient(runtime, doctor)
    summary = doctor.client.get(f"/pro/patients/{patient_id}/profile")
    path = f"/pro/patients/{patient_id}/profile/add/allergy"
    assert f'href="{path}"' in summary.text
    assert "/profile/add/advance_directive" not in summary.text  # the patient's own to write
    assert "Les professionnels du patient" in unescaped(summary.text)  # of the patient, not "yours"
    assert doctor.client.get(f"/pro/patients/{patient_id}/profile/add/advance_directive").status_code == 404
    empty, _ = _send(doctor, path, {"substance": "", "type": "allergy", "certainty": "sure"})
    assert empty.status_code == 422
    assert "Saisissez ce à quoi le patient réagit" in unescaped(field_error(empty, "substance"))
    assert "Ce à quoi le patient réagit" in unescaped(empty.text) and "Ce à quoi vous" not in unescaped(empty.text)
    fields = {"substance": "Pénicilline", "reaction": "Urticaire", "type": "allergy", "certainty": "sure"}
    sourceless, _ = _send(doctor, path, {**fields, "source_class": "90"})  # the patient's own class
    assert sourceless.status_code == 422 and field_error(sourceless, "source_class")
    assert 'value="Pénicilline"' in sourceless.text  # what was typed stays
    fields["source_class"] = "10"
    done, key = _send(doctor, path, fields)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/pro/patients/{patient_id}/profile?done=added"
    again, _ = _send(doctor, path, fields, key)
    assert again.status_code == 303
    assert _allergies(runtime, patient_id) == [doctor.listed.rpps]  # one entry, by this professional
    shown = doctor.client.get(done.headers["location"])
    assert "Pénicilline" in shown.text and "L'information est ajoutée au profil médical." in unescaped(shown.text)


def test_deposit_only_adds_without_reading_and_an_unauthorised_professional_adds_nothing(
    client_for: Client, runtime: Runtime
) -> None:
    doctor = pro(client_for, runtime)
    deposit_only = _patient(runtime, doctor, scope="deposit")
    fields = {"substance": "Latex", "type": "allergy", "certainty": "unsure", "source_class": "42"}
    done, _ = _send(doctor, f"/pro/patients/{deposit_only}/profile/add/allergy", fields)
    assert done.status_code == 303
    assert _allergies(runtime, deposit_only) == [doctor.listed.rpps]
    stranger = _patient(runtime, doctor, scope=None)
    refused, _ = _send(doctor, f"/pro/patients/{stranger}/profile/add/allergy", fields)
    assert refused.status_code in (403, 404) and "Traceback" not in refused.text
    assert _allergies(runtime, stranger) == []
