"""Emergency access from the professional's space: the justification, the red banner for the whole episode,
the patient's opt-out, and the centre 15 regulation for doctors only."""

from __future__ import annotations

import httpx

from carnet.access.actor import Actor
from carnet.access.service import set_opt_outs
from carnet.runtime import Runtime
from tests.portal.forms import field_error, post, unescaped
from tests.portal.pros import Client, Pro, holder, pro

WHY = "Patient inconscient aux urgences, aucun proche joignable."


def _declare(doctor: Pro, ins: str, justification: str, mode: str = "emergency") -> httpx.Response:
    form = post(doctor.client, "/pro/emergency/new", {"ins": ins}, token_from="/pro")
    assert form.status_code == 200 and 'name="justification"' in form.text
    return post(
        doctor.client, "/pro/emergency", {"ins": ins, "justification": justification, "mode": mode}, token_from="/pro"
    )


def test_an_emergency_needs_its_justification_then_the_banner_stays_for_the_episode(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime)
    assert "emergency-banner" not in doctor.client.get("/pro").text
    empty = _declare(doctor, patient.ins, "  ")
    assert empty.status_code == 422 and "le patient le lira" in field_error(empty, "justification")
    short = _declare(doctor, patient.ins, "urgence")
    assert short.status_code == 422 and "au moins 15 caractères" in field_error(short, "justification")
    assert ">urgence</textarea>" in short.text  # what was typed stays
    done = _declare(doctor, patient.ins, WHY)
    assert done.status_code == 303 and done.headers["location"] == f"/pro/patients/{patient.patient_id}?done=emergency"
    record = doctor.client.get(done.headers["location"])
    assert record.status_code == 200 and "Claire Dupont" in record.text
    assert 'class="emergency-banner"' in record.text and "Accès en urgence en cours" in record.text
    assert "dans le cadre d'un accès en urgence" in record.text
    home = doctor.client.get("/pro")
    assert 'class="emergency-banner"' in home.text and f"/pro/patients/{patient.patient_id}" in home.text
    assert " à " in home.text.split("emergency-banner")[1].split("</div>")[0]  # its end time


def test_after_the_patients_opt_out_the_refusal_reads_plainly(client_for: Client, runtime: Runtime) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime)
    assert patient.patient_id is not None
    with runtime.unit_of_work() as ctx:
        set_opt_outs(ctx, Actor.patient(patient.patient_id), patient.patient_id, emergency=True)
    refused = _declare(doctor, patient.ins, WHY)
    assert refused.status_code == 403
    assert "Le patient a refusé l'accès en urgence à son dossier." in unescaped(field_error(refused, "justification"))
    assert WHY in unescaped(refused.text) and "emergency-banner" not in refused.text


def test_regulation_is_for_doctors_and_reads_without_writing(client_for: Client, runtime: Runtime) -> None:
    nurse, regulator, patient = pro(client_for, runtime, "Roche", "60"), pro(client_for, runtime), holder(runtime)
    assert (
        'value="regulation"'
        not in post(nurse.client, "/pro/emergency/new", {"ins": patient.ins}, token_from="/pro").text
    )
    refused = _declare(nurse, patient.ins, WHY, mode="regulation")
    assert refused.status_code == 403 and "Seul un médecin régulateur" in field_error(refused, "mode")
    done = _declare(regulator, patient.ins, WHY, mode="regulation")
    assert done.status_code == 303
    record = regulator.client.get(done.headers["location"])
    assert "Régulation du centre 15 en cours" in record.text and "médecin régulateur du centre 15" in record.text
    assert f"/pro/patients/{patient.patient_id}/deposit" not in record.text


def test_an_emergency_for_an_ins_without_a_record_says_none_was_found(client_for: Client, runtime: Runtime) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime, with_record=False)
    refused = _declare(doctor, patient.ins, WHY)
    assert refused.status_code == 404 and "Aucun dossier n'a été trouvé" in unescaped(
        field_error(refused, "justification")
    )
