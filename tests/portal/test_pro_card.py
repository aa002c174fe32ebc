"""The professional's space: finding a patient by INS, and the carte Vitale that authorises or opens a record."""

from __future__ import annotations

import base64
import uuid

from carnet.identity.cards import Challenge, SimulatedCard
from carnet.kit import clock
from carnet.runtime import Runtime
from tests.factories import new_ins
from tests.portal.forms import field_error, post, unescaped
from tests.portal.pros import Client, challenge_of, holder, present_card, pro


def test_a_professional_finds_no_record_they_may_not_read_and_is_told_what_to_do_next(
    client_for: Client, runtime: Runtime
) -> None:
    doctor = pro(client_for, runtime)
    home = doctor.client.get("/pro")
    assert home.status_code == 200 and home.headers["cache-control"] == "no-store"
    assert doctor.listed.name in home.text and 'action="/staff/sign-out"' in home.text
    patient, stranger = holder(runtime), new_ins()
    unknown = post(doctor.client, "/pro/find", {"ins": stranger}, token_from="/pro")
    existing = post(doctor.client, "/pro/find", {"ins": patient.ins}, token_from="/pro")
    assert unknown.status_code == existing.status_code == 200
    assert "Aucun dossier que vous puissiez lire" in existing.text
    assert existing.text.replace(patient.ins, "INS") == unknown.text.replace(stranger, "INS")  # the same answer
    assert 'action="/pro/card"' in existing.text and 'action="/pro/emergency/new"' in existing.text


def test_an_ins_with_a_wrong_key_is_said_beside_the_field_and_kept(client_for: Client, runtime: Runtime) -> None:
    doctor = pro(client_for, runtime)
    ins = new_ins()
    wrong = ins[:13] + f"{(int(ins[13:]) + 1) % 97:02d}"
    refused = post(doctor.client, "/pro/find", {"ins": wrong}, token_from="/pro")
    assert refused.status_code == 422
    assert "La clé ne correspond pas au numéro de sécurité sociale" in unescaped(field_error(refused, "ins"))
    assert f'value="{wrong}"' in refused.text
    empty = post(doctor.client, "/pro/find", {"ins": " "}, token_from="/pro")
    assert empty.status_code == 422 and field_error(empty, "ins")


def test_the_card_authorises_the_professional_and_the_search_then_finds_the_record(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime)
    done = present_card(doctor.client, patient.ins)
    assert done.status_code == 303 and done.headers["location"] == f"/pro/patients/{patient.patient_id}?done=card"
    record = doctor.client.get(done.headers["location"])
    assert record.status_code == 200 and "Claire Dupont" in record.text and "carte Vitale est lue" in record.text
    found = post(doctor.client, "/pro/find", {"ins": patient.ins}, token_from="/pro")
    assert found.status_code == 303 and found.headers["location"] == f"/pro/patients/{patient.patient_id}"


def _sign_other(card: SimulatedCard, page: str, reader: str) -> dict[str, str]:
    fields = challenge_of(page)
    nonce = base64.b64decode(fields["nonce"])
    other = Challenge(uuid.UUID(fields["challenge_id"]), nonce[::-1], clock.now())
    signature = base64.b64encode(card.sign(other, reader)).decode()
    return {**fields, "serial": card.serial, "signature": signature}


def test_a_card_that_signs_another_challenge_and_a_second_presentation_are_refused_readably(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime)
    page = post(doctor.client, "/pro/card", {"ins": patient.ins}, token_from="/pro")
    wrong = post(
        doctor.client,
        "/pro/card/present",
        {"ins": patient.ins, **_sign_other(patient.card, page.text, doctor.listed.rpps)},
        token_from="/pro",
    )
    assert wrong.status_code == 403 and "La signature de la carte ne correspond pas" in unescaped(
        field_error(wrong, "card")
    )
    assert challenge_of(wrong.text) != challenge_of(page.text)  # a fresh challenge to present the card again
    fields = challenge_of(wrong.text)
    first = post(doctor.client, "/pro/card/present", {"ins": patient.ins, "simulate": "1", **fields}, token_from="/pro")
    assert first.status_code == 303
    again = post(doctor.client, "/pro/card/present", {"ins": patient.ins, "simulate": "1", **fields}, token_from="/pro")
    assert again.status_code == 403 and "déjà utilisé" in unescaped(field_error(again, "card"))


def test_a_card_without_a_record_opens_one_with_the_identity_typed_and_its_activation_code(
    client_for: Client, runtime: Runtime
) -> None:
    doctor, patient = pro(client_for, runtime), holder(runtime, with_record=False)
    asked = present_card(doctor.client, patient.ins)
    assert asked.status_code == 200 and 'action="/pro/card/open"' in asked.text
    identity = {"family_name": "Lefèvre", "given_names": "Anne", "birth_date": "12/04/2999", "sex": "F"}
    typo = post(
        doctor.client,
        "/pro/card/open",
        {"ins": patient.ins, "simulate": "1", **challenge_of(asked.text), **identity, "postcode": "1"},
        token_from="/pro",
    )
    assert typo.status_code == 422
    assert field_error(typo, "birth_date") and field_error(typo, "postcode") and field_error(typo, "agreed")
    assert 'value="Lefèvre"' in typo.text and 'value="12/04/2999"' in typo.text
    identity["birth_date"] = "12/04/1985"
    opened = post(
        doctor.client,
        "/pro/card/open",
        {
            "ins": patient.ins,
            "simulate": "1",
            **challenge_of(typo.text),
            **identity,
            "postcode": "35000",
            "agreed": "1",
        },
        token_from="/pro",
    )
    assert opened.status_code == 200 and "Le dossier est ouvert" in opened.text, opened.text
    assert 'class="code"' in opened.text
    found = post(doctor.client, "/pro/find", {"ins": patient.ins}, token_from="/pro")
    assert found.status_code == 303  # opened with the card: authorised at once


def test_the_space_is_for_signed_in_professionals(client_for: Client) -> None:
    stranger = client_for()
    asked = stranger.get("/pro", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith("/staff/sign-in")
