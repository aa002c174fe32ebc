"""The access history and the home page's news, over HTTP on the real services: plain words, filters, pages,
emergencies in red with their reason, and never another patient's lines."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient

from carnet.access.actor import Actor, Mode
from carnet.access.service import authorise, declare_emergency
from carnet.identity.cards import SimulatedCard, register_card
from carnet.records.documents import deposit_document, get_document, list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from tests.factories import PDF, document_meta, new_ins
from tests.http_fixtures import INSURER, Person
from tests.portal.forms import field_error, sign_in, summary_links, unescaped
from tests.portal.patients import FIRST_DOCUMENT
from tests.portal.professionals import Listed, SignedIn, listed, signed_in

Client = Callable[..., TestClient]
REASON = "Patiente inconsciente aux urgences, aucun proche joignable"


def _doctor_reads(runtime: Runtime, patient: SignedIn, doctor: Listed) -> None:
    """The patient authorises the doctor, who lists the documents and reads the first one."""
    with runtime.unit_of_work() as ctx:
        authorise(ctx, Actor.patient(patient.patient_id), patient.patient_id, doctor.rpps)
    with runtime.unit_of_work() as ctx:
        items = list_documents(ctx, doctor.actor(), patient.patient_id, DocumentQuery()).items
        first = next(item for item in items if item.title == FIRST_DOCUMENT)
        get_document(ctx, doctor.actor(), patient.patient_id, first.id)


def _emergency(runtime: Runtime, patient: SignedIn, who: Listed) -> None:
    with runtime.unit_of_work() as ctx:
        declare_emergency(ctx, who.actor(Mode.EMERGENCY), patient.patient_id, REASON)
    with runtime.unit_of_work() as ctx:
        list_documents(ctx, who.actor(Mode.EMERGENCY), patient.patient_id, DocumentQuery())


def _another(runtime: Runtime) -> Person:
    """A second insured person, as the `person` fixture makes one."""
    ins = new_ins()
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
    return Person(ins, card)


def _items(page: httpx.Response) -> list[str]:
    return [unescaped(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", page.text.split('id="accesses"')[1], re.S)]


def test_the_history_says_who_did_what_when_and_how_in_plain_words(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    doctor, nurse = listed(runtime, "Marchand"), listed(runtime, "Fabre", profession="60")
    _doctor_reads(runtime, patient, doctor)
    _emergency(runtime, patient, nurse)

    page = client.get("/patient/history")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    items = _items(page)
    read = next(item for item in items if f"Consultation de votre document « {FIRST_DOCUMENT} »" in item)
    assert f"{doctor.name}, médecin" in read and "3 mars 2026" in read and "Accès normal" in read
    assert "RPPS" not in read  # a name where the directory has one
    emergency = [item for item in items if nurse.name in item]
    assert emergency and all("Urgence (bris de glace)" in item for item in emergency)
    declared = next(item for item in emergency if "Déclaration d'un accès en urgence" in item)
    assert f"Motif indiqué : « {REASON} »" in declared
    assert page.text.count('<li class="alarm">') == len(emergency)
    # The patient's own doings are left out unless asked for; the authorisation they gave is one of them.
    assert not any(item.startswith('<p class="title">Vous</p>') for item in items)
    own = _items(client.get("/patient/history?own=true"))
    assert any("Vous" in item and f"Autorisation donnée à {doctor.name}" in item for item in own)
    assert any("Connexion" in item for item in own)
    assert doctor.name not in page.text.split("<title>")[1].split("</title>")[0]

    client.cookies.set("carnet_lang", "en", domain="carnet.test")
    english = client.get("/patient/history")
    assert f"Read your document “{FIRST_DOCUMENT}” of 3 March 2026" in unescaped(english.text)
    assert "Reason given:" in english.text and f"{doctor.name}, doctor" in english.text


def test_the_history_filters_by_professional_mode_and_period_and_pages(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    doctor, nurse = listed(runtime, "Lambert"), listed(runtime, "Rey", profession="60")
    _doctor_reads(runtime, patient, doctor)
    _emergency(runtime, patient, nurse)
    page = client.get("/patient/history")
    assert f'<option value="{doctor.rpps}">{doctor.name}, médecin</option>' in page.text

    only_doctor = _items(client.get(f"/patient/history?professional={doctor.rpps}"))
    assert only_doctor and all(doctor.name in item for item in only_doctor)
    emergencies = _items(client.get("/patient/history?mode=emergency"))
    assert emergencies and all(nurse.name in item for item in emergencies)
    normal = _items(client.get("/patient/history?mode=normal"))
    assert normal and not any(nurse.name in item for item in normal)
    future = client.get("/patient/history?from=2099-01-01")
    assert _items(future) == [] and "Aucun accès ne correspond à ces filtres." in unescaped(future.text)
    assert 'value="2099-01-01"' in future.text  # the filter stays as chosen
    today = _items(client.get("/patient/history?from=2026-01-01&to=2099-12-31"))
    assert len(today) == len(_items(page))

    wrong = client.get("/patient/history?from=03/03/2026&to=2026-01-01")
    assert wrong.status_code == 422 and summary_links(wrong) == ["from"]
    assert "par exemple 03/03/2026" in unescaped(field_error(wrong, "from"))
    backwards = client.get("/patient/history?from=2026-06-01&to=2026-01-01")
    assert field_error(backwards, "to") == "La fin de la période ne peut pas précéder son début."
    odd = client.get("/patient/history?mode=panic&professional=Dupont")
    assert odd.status_code == 422 and set(summary_links(odd)) == {"mode", "professional"}

    for _ in range(3):  # more than a page of the doctor's reads
        _doctor_reads(runtime, patient, doctor)
    first = client.get("/patient/history?own=true")
    older = re.search(r'<a href="(/patient/history\?own=true&amp;offset=20)">', first.text)
    assert older, "a second page"
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert second.status_code == 200 and 'href="/patient/history?own=true">' in second.text
    assert _items(second) and "Accès les plus récents" in unescaped(second.text)


def test_another_patients_history_never_shows(client_for: Client, runtime: Runtime, person: Person) -> None:
    mine, theirs = client_for(), client_for()
    patient = signed_in(mine, runtime, person)
    other = signed_in(theirs, runtime, _another(runtime))
    doctor = listed(runtime, "Girard")
    _doctor_reads(runtime, other, doctor)
    assert doctor.name in theirs.get("/patient/history").text
    page = mine.get("/patient/history")
    assert doctor.name not in page.text and doctor.rpps not in page.text
    assert _items(mine.get(f"/patient/history?professional={doctor.rpps}")) == []
    assert patient.patient_id != other.patient_id


def test_the_home_page_tells_what_is_new_since_the_last_visit_and_every_emergency_in_red(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient = signed_in(client, runtime, person)
    first_visit = unescaped(client.get("/patient").text)
    assert "Nouveautés dans votre dossier" in first_visit and FIRST_DOCUMENT in first_visit
    assert 'role="alert"' not in first_visit

    sign_in(client, patient.login, patient.uri)  # a second visit: the news start from the first
    calm = unescaped(client.get("/patient").text)
    assert "Nouveau depuis votre dernière visite, le" in calm and "Rien de nouveau" in calm

    doctor, nurse = listed(runtime, "Perrin"), listed(runtime, "Blanc", profession="60")
    _doctor_reads(runtime, patient, doctor)
    with runtime.unit_of_work() as ctx:
        deposit_document(
            ctx, doctor.actor(), patient.patient_id, document_meta(author=None, title="Radio du genou"), PDF
        )
    _emergency(runtime, patient, nurse)
    sign_in(client, patient.login, patient.uri)
    home = client.get("/patient")
    text = unescaped(home.text)
    alarm = text.split('<section class="alarm" role="alert"')[1].split("</section>")[0]
    assert nurse.name in alarm and "infirmier" in alarm and f"Motif indiqué : « {REASON} »" in alarm
    assert 'href="/patient/history?mode=emergency"' in alarm
    news = text.split('id="new"')[1].split("</section>")[0]
    assert ">Radio du genou</a>" in news
    assert doctor.name in news and nurse.name in news  # both read the record for the first time
    assert FIRST_DOCUMENT not in news  # it was there before the last visit
    assert "Radio" not in home.text.split("<title>")[1].split("</title>")[0]
