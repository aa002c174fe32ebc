"""Writing from the professional's space: deposit, replace and withdraw one's own, the author's flags, the
deposit-only mode, and a deposit into a closed record."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import httpx

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.kit import clock
from carnet.records.documents import get_document
from carnet.records.service import close_record
from carnet.runtime import Runtime
from tests.factories import CDA, PDF
from tests.portal.forms import field_error, token_of
from tests.portal.pros import Client, Pro, holder, pro

KEY = re.compile(r'name="upload_key" value="([0-9a-f]{32})"')


def _authorised(runtime: Runtime, doctor: Pro, scope: str = "read_write") -> uuid.UUID:
    patient = holder(runtime)
    assert patient.patient_id is not None
    with runtime.unit_of_work() as ctx:
        grant_authorisation(ctx, patient.patient_id, doctor.listed.rpps, scope=scope, via="patient")
    return patient.patient_id


def _send(
    doctor: Pro, path: str, fields: dict[str, str], file: tuple[str, bytes, str] | None, form: str | None = None
) -> httpx.Response:
    page = doctor.client.get(form or path)
    key = KEY.search(page.text)
    assert key, page.text[:1000]
    data = {"csrf_token": token_of(page), "upload_key": key.group(1), **fields}
    files = {"file": file} if file else None
    sent: httpx.Response = doctor.client.post(path, data=data, files=files, follow_redirects=False)
    return sent


FIELDS = {"class": "10", "type": "11488-4", "title": "Lettre au confrère", "act_date": "2026-06-01"}


def test_a_deposit_says_what_was_stored_and_the_author_withdraws_it(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    done = _send(doctor, f"/pro/patients/{patient_id}/deposit", FIELDS, ("cr.pdf", PDF, "application/pdf"))
    assert done.status_code == 200 and "Le document est déposé" in done.text, done.text
    document_id = re.search(rf"/pro/patients/{patient_id}/documents/([0-9a-f-]{{36}})", done.text)
    assert document_id and "Lettre au confrère" in done.text
    with runtime.unit_of_work() as ctx:
        stored = get_document(ctx, Actor.patient(patient_id), patient_id, uuid.UUID(document_id.group(1)))
    assert (stored.author_ref, stored.author_name) == (doctor.listed.rpps, doctor.listed.name)
    page = doctor.client.get(f"/pro/patients/{patient_id}/documents/{stored.id}")
    assert "Retirer ce document" in page.text
    out = doctor.client.post(
        f"/pro/patients/{patient_id}/documents/{stored.id}/withdraw",
        data={"csrf_token": token_of(page)},
        follow_redirects=False,
    )
    assert out.status_code == 303
    assert "Lettre au confrère" not in doctor.client.get(f"/pro/patients/{patient_id}").text


def test_a_cda_is_deposited_and_replaced_by_a_new_version(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    done = _send(doctor, f"/pro/patients/{patient_id}/deposit", FIELDS, ("bio.xml", CDA, "text/xml"))
    assert done.status_code == 200, done.text
    found = re.search(rf"/pro/patients/{patient_id}/documents/([0-9a-f-]{{36}})", done.text)
    assert found
    old = found.group(1)
    replace = f"/pro/patients/{patient_id}/documents/{old}/replace"
    newer = _send(doctor, replace, {**FIELDS, "title": "Compte rendu corrigé"}, ("cr.pdf", PDF, "application/pdf"))
    assert newer.status_code == 200 and "Compte rendu corrigé" in newer.text
    listed = doctor.client.get(f"/pro/patients/{patient_id}").text
    assert "Compte rendu corrigé" in listed and "Lettre au confrère" not in listed
    assert "Lettre au confrère" in doctor.client.get(f"/pro/patients/{patient_id}?status=deprecated").text


def test_bad_input_is_said_beside_each_field_and_what_was_typed_stays(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    future = (clock.today() + timedelta(days=3)).isoformat()
    fields = {"class": "90", "type": "", "title": "Radio du genou", "act_date": future}
    refused = _send(doctor, f"/pro/patients/{patient_id}/deposit", fields, ("photo.png", PDF, "image/png"))
    assert refused.status_code == 422
    for name in ("class", "type", "act_date", "file"):
        assert field_error(refused, name), name
    assert 'value="Radio du genou"' in refused.text
    assert "PDF, CDA (XML), JPEG, PNG" in field_error(refused, "file").replace("&#34;", '"')


def test_the_author_keeps_a_document_from_the_patient_and_readers_are_warned(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, colleague = pro(client_for, runtime), pro(client_for, runtime, "Leroy")
    patient_id = _authorised(runtime, doctor)
    with runtime.unit_of_work() as ctx:
        grant_authorisation(ctx, patient_id, colleague.listed.rpps, scope="read_write", via="patient")
    done = _send(doctor, f"/pro/patients/{patient_id}/deposit", FIELDS, ("cr.pdf", PDF, "application/pdf"))
    found = re.search(rf"/pro/patients/{patient_id}/documents/([0-9a-f-]{{36}})", done.text)
    assert found
    path = f"/pro/patients/{patient_id}/documents/{found.group(1)}"
    page = doctor.client.get(path)
    late = (clock.today() + timedelta(days=400)).isoformat()
    too_long = doctor.client.post(f"{path}/flags", data={"csrf_token": token_of(page), "hidden_until": late})
    assert too_long.status_code == 422 and field_error(too_long, "hidden_until") and f'value="{late}"' in too_long.text
    until = (clock.today() + timedelta(days=20)).isoformat()
    flagged = doctor.client.post(
        f"{path}/flags",
        data={"csrf_token": token_of(page), "hidden_until": until, "hidden_from_representatives": "1"},
        follow_redirects=False,
    )
    assert flagged.status_code == 303
    warned = colleague.client.get(f"/pro/patients/{patient_id}")
    assert "pas encore été informé de ce document" in warned.text
    with runtime.unit_of_work() as ctx:
        patient_list = get_document(ctx, doctor.listed.actor(), patient_id, uuid.UUID(found.group(1)))
    assert patient_list.hidden_from_representatives and patient_list.hidden_from_patient_until is not None
    not_theirs = colleague.client.get(path)
    assert "Retirer ce document" not in not_theirs.text
    forced = colleague.client.post(f"{path}/withdraw", data={"csrf_token": token_of(not_theirs)})
    assert forced.status_code == 403 and "Seul l'auteur" in forced.text.replace("&#39;", "'")


def test_deposit_only_deposits_says_what_was_stored_and_reads_nothing(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor, scope="deposit")
    done = _send(doctor, f"/pro/patients/{patient_id}/deposit", FIELDS, ("cr.pdf", PDF, "application/pdf"))
    assert done.status_code == 200 and "Lettre au confrère" in done.text
    found = re.search(rf"/pro/patients/{patient_id}/documents/([0-9a-f-]{{36}})", done.text)
    assert found
    with runtime.unit_of_work() as ctx:
        assert get_document(ctx, Actor.patient(patient_id), patient_id, uuid.UUID(found.group(1))).status == "current"
    assert doctor.client.get(f"/pro/patients/{patient_id}").status_code == 403


def test_a_deposit_into_a_closed_record_is_refused_with_the_form_kept(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    patient_id = _authorised(runtime, doctor)
    form = f"/pro/patients/{patient_id}/deposit"
    page = doctor.client.get(form)
    with runtime.unit_of_work() as ctx:
        close_record(ctx, Actor.patient(patient_id), patient_id)
    key = KEY.search(page.text)
    assert key
    refused = doctor.client.post(
        form,
        data={"csrf_token": token_of(page), "upload_key": key.group(1), **FIELDS},
        files={"file": ("cr.pdf", PDF, "application/pdf")},
    )
    assert refused.status_code == 404 and "Aucun dossier n&#39;a été trouvé pour ce patient." in refused.text
    assert 'value="Lettre au confrère"' in refused.text
