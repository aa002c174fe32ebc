"""The pharmacy counter and the insurance desk: the card read first, the record opened with a letter to print, a
pharmacist's reading, a desk's link between parent and child, a pharmacy's earnings; nothing medical at a desk."""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import date

import httpx
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from carnet.access import repository as access_repository
from carnet.access.actor import Actor
from carnet.access.service import authorise
from carnet.kit import clock
from carnet.records.documents import deposit_document
from carnet.records.models import Record
from carnet.runtime import Runtime
from tests.factories import IDENTITY, PDF, SYSTEM, document_meta, finess, new_ins, open_test_record
from tests.portal.forms import field_error, post, unescaped
from tests.portal.professionals import listed
from tests.portal.pros import challenge_of, holder

Client = Callable[..., TestClient]
VISIT = re.compile(r'name="visit" value="([^"]+)"')
CODE = re.compile(r'<code class="code">([^<]+)</code>')
TYPED = {"family_name": "Durand", "given_names": "Lucie", "birth_date": "02/07/1991", "sex": "F", "postcode": "69003"}


def pharmacist(client_for: Client, runtime: Runtime, pharmacy: str) -> TestClient:
    person = listed(runtime, "Pharma", "21")
    client = client_for()
    done = post(client, "/staff/sign-in/development", {"space": "pharmacy", "rpps": person.rpps, "finess": pharmacy})
    assert done.status_code == 303 and done.headers["location"] == "/counter", done.text
    return client


def desk_agent(client_for: Client, lang: str = "fr") -> TestClient:
    client = client_for()
    if lang == "en":
        client.cookies.set("carnet_lang", "en", domain="carnet.test")
    staff_id = f"A{uuid.uuid4().hex[:8]}"
    done = post(client, "/staff/sign-in/development", {"space": "desk", "staff_id": staff_id, "office": "CPAM44"})
    assert done.status_code == 303 and done.headers["location"] == "/desk", done.text
    return client


def read_card(client: TestClient, home: str, nir: str) -> httpx.Response:
    page = client.get(home)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store", page.text
    return post(client, f"{home}/card", {"nir": nir, "simulate": "1", **challenge_of(page.text)}, token_from=home)


def visit_of(page: httpx.Response) -> str:
    found = VISIT.search(page.text)
    assert found, page.text[:2000]
    return found.group(1)


def test_a_pharmacist_opens_a_record_after_a_typo_without_reading_the_card_again_and_prints_the_letter(
    client_for: Client, runtime: Runtime
) -> None:
    pharmacy = finess(41)
    client = pharmacist(client_for, runtime, pharmacy)
    newcomer = holder(runtime, with_record=False)
    visit = read_card(client, "/counter", newcomer.ins[:13])
    assert visit.status_code == 200 and "pas encore de dossier" in unescaped(visit.text)
    visit_id = visit_of(visit)
    typo = {**TYPED, "family_name": " ", "birth_date": "02/07/2091", "postcode": "9999", "agreed": "1"}
    refused = post(client, "/counter/open", {"visit": visit_id, **typo}, token_from="/counter")
    assert refused.status_code == 422
    assert field_error(refused, "family_name") and field_error(refused, "postcode")
    assert "doit être dans le passé" in unescaped(field_error(refused, "birth_date"))
    assert 'value="9999"' in refused.text and visit_of(refused) == visit_id  # what was typed, the same visit
    unagreed = post(client, "/counter/open", {"visit": visit_id, **TYPED}, token_from="/counter")
    assert unagreed.status_code == 422 and field_error(unagreed, "agreed")
    opened = post(client, "/counter/open", {"visit": visit_id, **TYPED, "agreed": "1"}, token_from="/counter")
    assert opened.status_code == 200 and "Le dossier est ouvert" in opened.text, opened.text
    code = CODE.search(opened.text)
    assert code
    with runtime.unit_of_work() as ctx:
        record = ctx.session.scalars(select(Record).where(Record.ins == newcomer.ins)).one()
        assert (record.channel, record.opened_by) == ("pharmacy", pharmacy)
    letter = post(client, "/counter/letter", {"visit": visit_id, "code": code.group(1)}, token_from="/counter")
    assert letter.status_code == 200 and letter.headers["content-type"] == "application/pdf"
    assert letter.content.startswith(b"%PDF") and letter.headers["cache-control"] == "no-store"
    written = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(letter.content)).pages)
    assert code.group(1) in written and "Lucie Durand" in written and "Activer mon compte" in written
    forged = post(client, "/counter/letter", {"visit": visit_id, "code": "ABCD-EFGH-JKMN"}, token_from="/counter")
    assert forged.status_code == 422 and "code d'activation en cours" in unescaped(forged.text)
    done = post(client, "/counter/end", {"visit": visit_id}, token_from="/counter")
    assert done.status_code == 303 and done.headers["location"] == "/counter?done=next"
    after = post(client, "/counter/letter", {"visit": visit_id, "code": code.group(1)}, token_from="/counter")
    assert after.status_code == 403 and "lisez la carte à nouveau" in unescaped(field_error(after, "card"))
    earned = client.get("/counter/earnings")
    assert earned.status_code == 200 and "1,00" in earned.text and clock.today().strftime("%Y") in earned.text


def test_a_pharmacist_reads_an_existing_record_as_the_matrix_allows(client_for: Client, runtime: Runtime) -> None:
    client = pharmacist(client_for, runtime, finess(42))
    patient = holder(runtime)
    visit = read_card(client, "/counter", patient.ins)
    assert visit.status_code == 200 and "a déjà un dossier" in unescaped(visit.text)
    assert 'action="/counter/read"' in visit.text and 'action="/desk/child"' not in visit.text
    read = post(client, "/counter/read", {"visit": visit_of(visit)}, token_from="/counter")
    assert read.status_code == 303 and read.headers["location"] == f"/pro/patients/{patient.patient_id}?done=card"
    record = client.get(read.headers["location"])
    assert record.status_code == 200 and "Claire Dupont" in record.text
    assert 'href="/counter">Retour au comptoir' in record.text  # the way back to the next visitor


def test_a_wrong_card_or_no_number_is_said_beside_the_field(client_for: Client, runtime: Runtime) -> None:
    client = desk_agent(client_for)
    page = client.get("/desk")
    empty = post(client, "/desk/card", {"nir": "", "simulate": "1", **challenge_of(page.text)}, token_from="/desk")
    assert empty.status_code == 422 and field_error(empty, "nir")
    stranger = new_ins()  # no card registered: the simulated card is not a carte Vitale
    unknown = read_card(client, "/desk", stranger)
    assert unknown.status_code == 403 and "pas une carte Vitale valide" in unescaped(field_error(unknown, "card"))
    assert f'value="{stranger}"' in unknown.text
    other = post(client, "/desk/open", {"visit": str(uuid.uuid4()), **TYPED, "agreed": "1"}, token_from="/desk")
    assert other.status_code == 403 and field_error(other, "card")
    elsewhere = client.get("/counter", follow_redirects=False)  # a desk agent has no counter page: sign in there
    assert elsewhere.status_code == 303


def test_a_desk_gives_a_new_code_links_a_child_and_shows_nothing_medical(client_for: Client, runtime: Runtime) -> None:
    tag = uuid.uuid4().hex[:8]
    secrets = [f"Compte rendu opératoire {tag}", f"Séropositivité confirmée {tag}"]
    parent = holder(runtime)
    child_ins = new_ins()
    born = date(clock.today().year - 6, 5, 20)
    assert parent.patient_id is not None
    doctor = listed(runtime, "Auteur")
    with runtime.unit_of_work() as ctx:
        child_id = open_test_record(ctx, ins=child_ins, identity=IDENTITY.model_copy(update={"birth_date": born}))
        for title in secrets:
            deposit_document(ctx, SYSTEM, parent.patient_id, document_meta(title=title), PDF)
        authorise(ctx, Actor.patient(parent.patient_id), parent.patient_id, doctor.rpps)
    for lang in ("fr", "en"):
        client = desk_agent(client_for, lang)
        pages = [client.get("/desk"), visit := read_card(client, "/desk", parent.ins)]
        visit_id = visit_of(visit)
        assert 'action="/counter/read"' not in visit.text and 'action="/desk/child"' in visit.text
        pages.append(code := post(client, "/desk/code", {"visit": visit_id}, token_from="/desk"))
        assert code.status_code == 200 and CODE.search(code.text)
        pages.append(post(client, "/desk/child", {"visit": visit_id}, token_from="/desk"))
        wrong = {"visit": visit_id, "child_ins": child_ins, "child_birth_date": "21/05/2000", "papers": "1"}
        pages.append(refused := post(client, "/desk/child/link", wrong, token_from="/desk"))
        assert refused.status_code == 422 and field_error(refused, "child_ins")
        unproven = {**wrong, "child_birth_date": born.strftime("%d/%m/%Y"), "papers": ""}
        pages.append(missing := post(client, "/desk/child/link", unproven, token_from="/desk"))
        assert missing.status_code == 422 and field_error(missing, "papers")
        pages.append(linked := post(client, "/desk/child/link", {**unproven, "papers": "1"}, token_from="/desk"))
        assert linked.status_code == 200, linked.text
        assert str(born.year + 18) in linked.text
        for shown in pages:
            text = unescaped(shown.text)
            assert not any(secret in text for secret in secrets), shown.url
            assert "Compte rendu" not in text and "/pro/patients" not in text
        elsewhere = post(client, "/counter/read", {"visit": visit_id}, token_from="/desk")
        assert elsewhere.status_code == 303 and elsewhere.headers["location"].startswith("/staff/sign-in")
    with runtime.unit_of_work() as ctx:
        assert access_repository.is_representative(ctx.session, child_id, parent.patient_id, clock.today())
