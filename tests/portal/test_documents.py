"""The patient's documents over HTTP, on the real services: the list (filters, pages), one document, its content,
masking, and adding one's own, with every refusal shown beside its field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from carnet.access.actor import Actor
from carnet.app import create_app
from carnet.audit.models import AuditEntry
from carnet.identity.cards import SimulatedCard, register_card
from carnet.kit.crypto import parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.records.documents import deposit_document, get_document, list_documents
from carnet.records.models import Document
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from carnet.synthetic import minimal_cda, minimal_pdf
from tests.api.flows import new_login
from tests.factories import PDF, SYSTEM, document_meta, new_ins, rpps
from tests.http_fixtures import BASE_URL, INSURER, MASTER_KEY, Person, fresh_address, make_settings
from tests.portal.forms import activation_form, field_error, post, sign_in, summary_links, token_of, totp_uri_of
from tests.portal.forms import unescaped as plain
from tests.portal.patients import FIRST_DOCUMENT, SECOND_DOCUMENT, ready_patient
from tests.server_log import served

Client = Callable[..., TestClient]
SMALL_LIMIT = 64 * 1024
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
LINK = re.compile(r'<a href="/patient/documents/([0-9a-f-]{36})">([^<]+)</a>')


def _signed_in(client: TestClient, runtime: Runtime, person: Person) -> uuid.UUID:
    ready = ready_patient(runtime, person)
    login = new_login()
    done = post(client, "/patient/activate", activation_form(person, ready.activation_code, login))
    assert done.status_code == 200, done.text
    sign_in(client, login, totp_uri_of(done))
    return ready.patient_id


def _another_person(runtime: Runtime) -> Person:
    card = SimulatedCard.new(f"VIT{uuid.uuid4().int % 10**12:012d}")
    ins = new_ins()
    with runtime.unit_of_work() as ctx:
        register_card(ctx, INSURER, ins, card.serial, card.public_key())
    return Person(ins, card)


def _deposit(runtime: Runtime, patient_id: uuid.UUID, content: bytes = PDF, **meta: object) -> uuid.UUID:
    with runtime.unit_of_work() as ctx:
        return deposit_document(ctx, SYSTEM, patient_id, document_meta(**meta), content)


def _titles(page: str) -> list[str]:
    return [plain(title) for _, title in LINK.findall(page)]


def _count(runtime: Runtime, patient_id: uuid.UUID) -> int:
    with runtime.unit_of_work() as ctx:
        page = list_documents(ctx, Actor.patient(patient_id), patient_id, DocumentQuery(status="any", limit=100))
    return len(page.items)


def test_the_list_shows_current_documents_newest_act_first_linked_by_id_only(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    gone = _deposit(runtime, patient_id, title="Ancienne version retirée", act_date=date(2026, 7, 1))
    with runtime.unit_of_work() as ctx:  # as its author's withdrawal leaves it
        ctx.session.execute(update(Document).where(Document.id == gone).values(status="withdrawn"))
    listed = client.get("/patient/documents")
    assert listed.status_code == 200
    assert _titles(listed.text) == [SECOND_DOCUMENT, FIRST_DOCUMENT]  # act of 9 June first; the withdrawn one apart
    assert "Synthèse" in listed.text and "Résultats d'analyses de biologie" in plain(listed.text)
    assert "9 juin 2026" in listed.text and "Dr Martin" in listed.text
    assert listed.headers["cache-control"] == "no-store"
    title = listed.text.split("<title>")[1].split("</title>")[0]
    assert title == "Vos documents \N{EN DASH} Carnet"
    assert all("Bilan" not in href for href in re.findall(r'href="([^"]*)"', listed.text))
    assert 'href="/patient/documents"' in listed.text  # the menu's link
    withdrawn = client.get("/patient/documents?status=withdrawn")
    assert _titles(withdrawn.text) == ["Ancienne version retirée"]
    english = client.get("/patient/documents", headers={"Accept-Language": "en"})
    assert "Your documents" in english.text and "Laboratory results" in english.text


def test_filters_by_kind_type_period_and_author(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    other_author = {"rpps": rpps(7), "name": "Dr Bernard", "organisation": "Cabinet du Port"}
    _deposit(
        runtime,
        patient_id,
        title="Radio du genou",
        class_code="31",
        type_code="18748-4",
        author=other_author,
        act_date=date(2026, 5, 5),
    )
    assert _titles(client.get("/patient/documents?class=11").text) == [SECOND_DOCUMENT]
    assert _titles(client.get("/patient/documents?type=18748-4").text) == ["Radio du genou"]
    period = client.get("/patient/documents?from=2026-03-01&to=2026-03-31")
    assert _titles(period.text) == [FIRST_DOCUMENT]
    assert 'value="2026-03-01"' in period.text  # the filters stay in the form
    typed = client.get("/patient/documents?from=01/06/2026")  # typed where a browser has no date picker
    assert SECOND_DOCUMENT in _titles(typed.text) and FIRST_DOCUMENT not in _titles(typed.text)
    listed = client.get("/patient/documents")
    assert f'<option value="{rpps(7)}">Dr Bernard, Cabinet du Port</option>' in listed.text
    assert _titles(client.get(f"/patient/documents?author={rpps(7)}").text) == ["Radio du genou"]
    nothing = client.get("/patient/documents?class=44")
    assert "Aucun document ne correspond à ces filtres." in nothing.text


@pytest.mark.parametrize(
    ("query", "name", "message"),
    [
        ("class=99", "class", "Choisissez une catégorie de document dans la liste."),
        ("type=1234-5", "type", "Choisissez un type de document dans la liste."),
        ("from=2026-13-45", "from", "Saisissez une date avec le jour, le mois et l'année, par exemple 14/03/2026."),
        ("from=2026-05-01&to=2026-04-01", "to", "La fin de la période ne peut pas précéder son début."),
        (f"author={rpps(8)}", "author", "Choisissez un auteur dans la liste."),
        ("status=destroyed", "status", "Choisissez dans la liste les documents à afficher."),
    ],
)
def test_a_bad_filter_is_shown_beside_its_field(
    client_for: Client, runtime: Runtime, person: Person, query: str, name: str, message: str
) -> None:
    client = client_for()
    _signed_in(client, runtime, person)
    refused = client.get(f"/patient/documents?{query}")
    assert refused.status_code == 422
    assert plain(field_error(refused, name)) == message
    assert summary_links(refused) == [name]
    assert not _titles(refused.text)


def test_pages_of_ten_with_previous_and_next_keeping_the_filters(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    for day in range(1, 12):
        _deposit(runtime, patient_id, title=f"Compte rendu n°{day:02d}", act_date=date(2026, 1, day))
    first = client.get("/patient/documents?class=10")
    titles = _titles(first.text)
    assert len(titles) == 10 and titles[0] == FIRST_DOCUMENT and titles[1] == "Compte rendu n°11"
    assert 'href="/patient/documents?class=10&amp;page=2" rel="next"' in first.text and 'rel="prev"' not in first.text
    second = client.get("/patient/documents?class=10&page=2")
    assert _titles(second.text) == ["Compte rendu n°02", "Compte rendu n°01"]
    assert 'href="/patient/documents?class=10" rel="prev"' in second.text and 'rel="next"' not in second.text
    assert "Vous êtes à la page 2." in plain(second.text)


def test_a_pdf_document_shows_its_facts_and_its_content_inline(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    document_id = _deposit(runtime, patient_id, title="Échographie cardiaque", act_date=date(2026, 4, 2))
    shown = client.get(f"/patient/documents/{document_id}")
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    text = plain(shown.text)
    assert "<h1>Échographie cardiaque</h1>" in text
    assert "Échographie" not in text.split("<title>")[1].split("</title>")[0]
    assert "Compte rendu \N{EN DASH} Compte rendu de consultation" in text and "2 avril 2026" in text
    assert "Dr Martin, CHU de Nantes" in text and "En vigueur" in text
    assert f'<iframe class="viewer" src="/patient/documents/{document_id}/content"' in text
    assert f'href="/patient/documents/{document_id}/content?download=1"' in text
    assert "Masquer ce document" in text


def test_text_and_cda_documents_are_shown_as_text_never_as_markup(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    note = _deposit(runtime, patient_id, b"Tension 12/8.\n<b>RAS</b>", title="Note de suivi", format="text/plain")
    shown = client.get(f"/patient/documents/{note}")
    assert '<pre class="text-content">Tension 12/8.\n&lt;b&gt;RAS&lt;/b&gt;</pre>' in shown.text
    cda = minimal_cda("Bilan biologique", "Hémoglobine 13,5 g/dL &lt;img src=x onerror=alert(1)&gt;")
    report = _deposit(runtime, patient_id, cda, title="Bilan CDA", format="text/xml")
    page = client.get(f"/patient/documents/{report}")
    narrative = page.text.split('<div class="narrative">')[1].split("</div>")[0]
    assert "<h3>Bilan biologique</h3>" in narrative
    assert "<p>Hémoglobine 13,5 g/dL &lt;img src=x onerror=alert(1)&gt;</p>" in narrative
    assert "<iframe" not in page.text and "<img" not in page.text


def test_the_content_is_served_through_the_gate_with_safe_headers(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    document_id = _deposit(runtime, patient_id, title="Ordonnance du 3 mars")
    content = client.get(f"/patient/documents/{document_id}/content")
    assert content.status_code == 200 and content.content == PDF
    assert content.headers["content-type"] == "application/pdf"
    assert content.headers["content-disposition"] == 'inline; filename="document.pdf"'
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["cache-control"] == "no-store"
    policy = content.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    downloaded = client.get(f"/patient/documents/{document_id}/content?download=1")
    assert downloaded.headers["content-disposition"] == 'attachment; filename="document.pdf"'
    image = _deposit(runtime, patient_id, PNG, title="Photo", format="image/png")
    picture = client.get(f"/patient/documents/{image}/content")
    assert picture.headers["content-type"] == "image/png"
    assert picture.headers["content-security-policy"].endswith("; sandbox")
    assert (
        f'<img class="picture" src="/patient/documents/{image}/content" alt="Photo">'
        in client.get(f"/patient/documents/{image}").text
    )
    cda = _deposit(runtime, patient_id, minimal_cda("Bilan", "RAS"), title="CDA", format="text/xml")
    xml = client.get(f"/patient/documents/{cda}/content")
    assert xml.headers["content-type"] == "application/xml"
    assert xml.headers["content-disposition"] == 'attachment; filename="document.xml"'
    # The page itself may not be framed; only the content may, by Carnet's own page.
    assert (
        "frame-ancestors 'none'" in client.get(f"/patient/documents/{document_id}").headers["content-security-policy"]
    )
    with runtime.unit_of_work() as ctx:
        reads = ctx.session.scalars(
            select(AuditEntry.subject).where(AuditEntry.chain_id == patient_id, AuditEntry.action == "document.read")
        ).all()
    assert f"document:{document_id}" in reads


def test_another_patients_document_is_the_same_calm_404_as_none(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    client = client_for()
    _signed_in(client, runtime, person)
    other = ready_patient(runtime, _another_person(runtime))
    theirs = _deposit(runtime, other.patient_id, title="Dossier de quelqu'un d'autre")
    nobody = uuid.uuid4()
    for path in (f"/patient/documents/{theirs}", f"/patient/documents/{theirs}/content"):
        refused = client.get(path)
        missing = client.get(path.replace(str(theirs), str(nobody)))
        assert refused.status_code == missing.status_code == 404
        assert refused.text.replace(str(theirs), "?") == missing.text.replace(str(nobody), "?")
        assert "quelqu" not in refused.text
        assert refused.headers["content-type"].startswith("text/html")
    masking = post(client, f"/patient/documents/{theirs}/mask", {"masked": "1"}, token_from="/patient/documents")
    assert masking.status_code == 404
    with runtime.unit_of_work() as ctx:
        assert not get_document(ctx, Actor.patient(other.patient_id), other.patient_id, theirs).masked
    assert client.get("/patient/documents/not-an-id").status_code == 404


def test_mask_then_unmask_a_document_with_the_forms_token(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    document_id = _deposit(runtime, patient_id, title="Consultation de psychiatrie")
    path = f"/patient/documents/{document_id}"
    forged = client.post(f"{path}/mask", data={"masked": "1"})
    assert forged.status_code == 403
    masked = post(client, f"{path}/mask", {"masked": "1"}, token_from=path)
    assert (masked.status_code, masked.headers["location"]) == (303, f"{path}?done=masked")
    page = plain(client.get(masked.headers["location"]).text)
    assert "Le document est masqué" in page and "Démasquer ce document" in page
    assert "Oui : caché aux professionnels de santé" in page
    with runtime.unit_of_work() as ctx:
        assert get_document(ctx, Actor.patient(patient_id), patient_id, document_id).masked
    assert '<span class="tag masked">Masqué</span>' in client.get("/patient/documents").text
    unmasked = post(client, f"{path}/mask", {"masked": "0"}, token_from=path)
    assert unmasked.headers["location"] == f"{path}?done=unmasked"
    assert "n'est plus masqué" in plain(client.get(unmasked.headers["location"]).text)
    with runtime.unit_of_work() as ctx:
        assert not get_document(ctx, Actor.patient(patient_id), patient_id, document_id).masked


def _upload(
    client: TestClient, files: dict[str, tuple[str, bytes, str]] | None, **data: str
) -> tuple[TestClient, httpx.Response]:
    form = client.get("/patient/documents/new")
    key = re.search(r'name="upload_key" value="([0-9a-f]{32})"', form.text)
    assert key, form.text[:500]
    fields = {"csrf_token": token_of(form), "upload_key": key.group(1), **data}
    return client, client.post("/patient/documents/new", data=fields, files=files, follow_redirects=False)


def test_adding_my_own_document_shows_it_as_added_by_me(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    pdf = minimal_pdf("Certificat de vaccination")
    _, added = _upload(
        client,
        {"file": ("vaccins.pdf", pdf, "application/pdf")},
        title="Certificat de vaccination",
        type="11369-6",
        act_date="2026-02-10",
    )
    assert added.status_code == 303, added.text
    location = added.headers["location"]
    assert re.fullmatch(r"/patient/documents/[0-9a-f-]{36}\?done=added", location)
    page = plain(client.get(location).text)
    assert "Votre document est ajouté à votre dossier." in page and "Ajouté par vous" in page
    assert "Document du patient \N{EN DASH} Historique des vaccinations" in page and "10 février 2026" in page
    document_id = uuid.UUID(location.split("/")[3].split("?")[0])
    with runtime.unit_of_work() as ctx:
        view = get_document(ctx, Actor.patient(patient_id), patient_id, document_id)
    assert (view.class_code, view.patient_provided, view.format) == ("90", True, "application/pdf")
    assert client.get(f"/patient/documents/{document_id}/content").content == pdf
    _, text = _upload(
        client,
        {"file": ("notes.txt", "Allergie à la pénicilline".encode(), "text/plain")},
        title="Mes notes",
        type="11506-3",
        act_date="",
    )
    assert text.status_code == 303


@pytest.mark.parametrize(
    ("files", "data", "name", "message"),
    [
        (None, {"title": "Certificat", "type": "11369-6"}, "file", "Choisissez le fichier à ajouter."),
        (
            {"file": ("vide.pdf", b"", "application/pdf")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier est vide : choisissez-en un autre.",
        ),
        (
            {"file": ("faux.pdf", b"GIF89a pas un pdf", "application/pdf")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier n'est pas ce que son nom indique : choisissez un fichier PDF, JPEG, PNG ou texte.",
        ),
        (
            {"file": ("photo.pdf", PNG, "application/pdf")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier n'est pas ce que son nom indique : choisissez un fichier PDF, JPEG, PNG ou texte.",
        ),
        (
            {"file": ("photo.png", PNG, "application/pdf")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier n'est pas ce que son nom indique : choisissez un fichier PDF, JPEG, PNG ou texte.",
        ),
        (
            {"file": ("coupe.pdf", b"%PDF-1.4 tronque", "application/pdf")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier n'est pas ce que son nom indique : choisissez un fichier PDF, JPEG, PNG ou texte.",
        ),
        (
            {"file": ("page.html", b"<script>x</script>", "text/html")},
            {"title": "Certificat", "type": "11369-6"},
            "file",
            "Ce fichier n'est pas ce que son nom indique : choisissez un fichier PDF, JPEG, PNG ou texte.",
        ),
        (
            {"file": ("ok.pdf", PDF, "application/pdf")},
            {"title": "  ", "type": "11369-6"},
            "title",
            "Donnez un titre au document, par exemple « Certificat de vaccination ».",
        ),
        (
            {"file": ("ok.pdf", PDF, "application/pdf")},
            {"title": "Certificat", "type": ""},
            "type",
            "Choisissez le type de ce document.",
        ),
        (
            {"file": ("ok.pdf", PDF, "application/pdf")},
            {"title": "Certificat", "type": "11369-6", "act_date": "2999-01-01"},
            "act_date",
            "La date du document ne peut pas être dans le futur.",
        ),
        (
            {"file": ("ok.pdf", PDF, "application/pdf")},
            {"title": "Certificat", "type": "11369-6", "act_date": "hier"},
            "act_date",
            "Saisissez une date avec le jour, le mois et l'année, par exemple 14/03/2026.",
        ),
    ],
)
def test_a_refused_upload_says_why_beside_the_field_keeps_what_was_typed_and_stores_nothing(
    client_for: Client,
    runtime: Runtime,
    person: Person,
    files: dict[str, tuple[str, bytes, str]] | None,
    data: dict[str, str],
    name: str,
    message: str,
) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    before = _count(runtime, patient_id)
    _, refused = _upload(client, files, **data)
    assert refused.status_code == 422, refused.text
    assert plain(field_error(refused, name)) == message
    if data["title"].strip():
        assert f'value="{data["title"]}"' in refused.text
    assert _count(runtime, patient_id) == before


@pytest.fixture(scope="module")
def small_app(http_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The application with a 64 KiB document limit, on the same database: uploads too large stay small."""
    settings = make_settings(tmp_path_factory.mktemp("small"), max_document_bytes=SMALL_LIMIT)
    engine = make_engine(http_database)
    yield create_app(Runtime(settings, engine, make_sessionmaker(engine), parse_master_keys(MASTER_KEY, source="t")))
    engine.dispose()


def test_a_file_over_the_limit_is_refused_beside_the_field_and_far_over_it_on_a_calm_page(
    small_app: FastAPI, runtime: Runtime, person: Person
) -> None:
    with TestClient(
        served(small_app), base_url=BASE_URL, raise_server_exceptions=False, client=(fresh_address(), 50000)
    ) as client:
        patient_id = _signed_in(client, runtime, person)
        before = _count(runtime, patient_id)
        big = b"a" * (SMALL_LIMIT + 1)
        _, refused = _upload(client, {"file": ("grand.txt", big, "text/plain")}, title="Gros fichier", type="11506-3")
        assert refused.status_code == 422
        assert plain(field_error(refused, "file")) == "Ce fichier est trop volumineux : 1 Mo au plus."
        huge = b"a" * (SMALL_LIMIT * 3)
        _, far = _upload(client, {"file": ("enorme.txt", huge, "text/plain")}, title="Énorme", type="11506-3")
        assert far.status_code == 413
        assert "Ce fichier est trop volumineux pour Carnet" in plain(far.text)
        assert _count(runtime, patient_id) == before


def test_a_form_sent_twice_adds_one_document(client_for: Client, runtime: Runtime, person: Person) -> None:
    client = client_for()
    patient_id = _signed_in(client, runtime, person)
    before = _count(runtime, patient_id)
    form = client.get("/patient/documents/new")
    key = re.search(r'name="upload_key" value="([0-9a-f]{32})"', form.text)
    assert key
    fields = {"csrf_token": token_of(form), "upload_key": key.group(1), "title": "Carnet de santé", "type": "11369-6"}
    files = {"file": ("carnet.pdf", PDF, "application/pdf")}
    first = client.post("/patient/documents/new", data=fields, files=files, follow_redirects=False)
    again = client.post("/patient/documents/new", data=fields, files=files, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert _count(runtime, patient_id) == before + 1


def test_the_documents_ask_to_sign_in_first_and_come_back(client_for: Client) -> None:
    client = client_for()
    for path in ("/patient/documents", "/patient/documents/new", f"/patient/documents/{uuid.uuid4()}"):
        asked = client.get(path, follow_redirects=False)
        assert asked.status_code == 303 and asked.headers["location"] == f"/patient/sign-in?next={path}"
