from __future__ import annotations

import hashlib
import uuid
from datetime import date

import pytest

from carnet.access.actor import Actor
from carnet.access.service import grant_authorisation
from carnet.context import Context
from carnet.kit.errors import Forbidden, Invalid, NotFound, TooLarge, UnsupportedMedia
from carnet.kit.validation import validate_model
from carnet.records.documents import (
    deposit_document,
    get_document,
    list_documents,
    read_content,
    replace_document,
    set_masked,
    withdraw_document,
)
from carnet.records.schemas import DocumentQuery, NewDocument
from tests.conftest import MAX_TEST_DOCUMENT_BYTES
from tests.factories import CDA, PDF, SYSTEM, document_meta, open_test_record, patient_meta, rpps


def test_deposit_keeps_metadata_and_content(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    view, content = read_content(ctx, Actor.patient(patient_id), patient_id, document_id)
    assert content == PDF
    assert view.title == "Consultation de cardiologie"
    assert (view.class_code, view.type_code, view.format, view.status) == (
        "10",
        "11488-4",
        "application/pdf",
        "current",
    )
    assert (view.author_kind, view.author_ref, view.author_name) == ("professional", rpps(), "Dr Martin")
    assert view.author_organisation == "CHU de Nantes"
    assert view.size == len(PDF) and view.sha256 == hashlib.sha256(PDF).hexdigest()
    assert view.act_date == date(2026, 3, 3) and view.deposited_at >= view.created_at
    assert not view.patient_provided


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("text/xml", CDA),
        ("text/plain", b"Compte rendu : RAS."),
        ("image/jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32 + b"\xff\xd9"),
        ("image/png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32),
    ],
)
def test_each_accepted_format(ctx: Context, fmt: str, content: bytes) -> None:
    patient_id = open_test_record(ctx)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(format=fmt), content)
    assert read_content(ctx, Actor.patient(patient_id), patient_id, document_id)[1] == content


def test_patient_deposits_are_class_90_and_shown_as_patient_provided(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    document_id = deposit_document(ctx, patient, patient_id, patient_meta(), PDF)
    view = get_document(ctx, patient, patient_id, document_id)
    assert view.patient_provided and view.class_code == "90" and view.author_ref == str(patient_id)
    with pytest.raises(Invalid, match="class 90"):
        deposit_document(ctx, patient, patient_id, patient_meta(class_code="10"), PDF)
    with pytest.raises(Invalid, match="reserved"):
        deposit_document(ctx, SYSTEM, patient_id, document_meta(class_code="90"), PDF)


def test_an_import_names_its_author(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    with pytest.raises(Invalid, match="names its professional author"):
        deposit_document(ctx, SYSTEM, patient_id, document_meta(author=None), PDF)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"class_code": "99"}, "class_code: Unknown document class '99'"),
        ({"type_code": "1234-5"}, "type_code: Unknown document type '1234-5'"),
        ({"title": "  "}, "title"),
        ({"act_date": "2999-01-01"}, "act_date: must not be in the future"),
        ({"created_at": "2026-01-01T10:00:00"}, "created_at: must carry a time zone"),
        ({"author": {"rpps": "12345678901", "name": "Dr X"}}, "author.rpps: The RPPS number"),
    ],
)
def test_bad_metadata_is_refused_naming_the_field(overrides: dict[str, object], fragment: str) -> None:
    fields = {**document_meta().model_dump(), **overrides}
    with pytest.raises(Invalid, match=fragment):
        validate_model(NewDocument, fields)


@pytest.mark.parametrize(
    ("fmt", "content", "error", "fragment"),
    [
        ("application/pdf", b"", Invalid, "empty"),
        ("application/pdf", b"GIF89a not a pdf %%EOF", Invalid, "no %PDF- header"),
        ("application/pdf", b"%PDF-1.4 truncated", Invalid, "no %%EOF"),
        ("text/xml", b"<html><body/></html>", Invalid, "not a CDA ClinicalDocument"),
        ("text/xml", b"<ClinicalDocument", Invalid, "not well-formed"),
        ("text/xml", b'<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', Invalid, "not well-formed"),
        ("text/plain", b"\xff\xfe\x00binary", Invalid, "not UTF-8"),
        ("text/plain", b"a\x00b", Invalid, "NUL"),
        ("image/png", PDF, Invalid, "no PNG signature"),
        ("image/jpeg", PDF, Invalid, "no JPEG signature"),
        ("application/msword", b"x", UnsupportedMedia, "not accepted"),
        ("text/plain", b"a" * (MAX_TEST_DOCUMENT_BYTES + 1), TooLarge, "limit"),
    ],
)
def test_bad_content_is_refused_and_nothing_is_stored(
    ctx: Context, fmt: str, content: bytes, error: type[Exception], fragment: str
) -> None:
    patient_id = open_test_record(ctx)
    with pytest.raises(error, match=fragment):
        deposit_document(ctx, SYSTEM, patient_id, document_meta(format=fmt), content)
    page = list_documents(ctx, Actor.patient(patient_id), patient_id, DocumentQuery(status="any"))
    assert page.items == []


def test_list_newest_first_with_filters_and_pages(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    specs = [
        ("10", "11488-4", date(2026, 1, 5)),
        ("11", "11502-2", date(2026, 2, 10)),
        ("42", "57833-6", date(2025, 12, 1)),
        ("11", "11502-2", date(2026, 3, 1)),
        ("31", "18748-4", date(2024, 6, 30)),
    ]
    ids = {}
    for class_code, type_code, act in specs:
        meta = document_meta(class_code=class_code, type_code=type_code, act_date=act, title=f"doc {act}")
        ids[act] = deposit_document(ctx, SYSTEM, patient_id, meta, PDF)

    def acts(**query: object) -> list[date]:
        page = list_documents(ctx, patient, patient_id, DocumentQuery.model_validate(query))
        return [item.act_date for item in page.items]

    assert acts() == sorted(ids, reverse=True)
    assert acts(class_code="11") == [date(2026, 3, 1), date(2026, 2, 10)]
    assert acts(type_code="57833-6") == [date(2025, 12, 1)]
    assert acts(act_from="2025-12-01", act_to="2026-02-10") == [date(2026, 2, 10), date(2026, 1, 5), date(2025, 12, 1)]
    first = list_documents(ctx, patient, patient_id, DocumentQuery(limit=2))
    assert first.next_offset == 2 and len(first.items) == 2
    last = list_documents(ctx, patient, patient_id, DocumentQuery(limit=2, offset=4))
    assert last.next_offset is None and [i.act_date for i in last.items] == [date(2024, 6, 30)]
    with pytest.raises(Invalid, match="act_to cannot precede act_from"):
        validate_model(DocumentQuery, {"act_from": "2026-02-01", "act_to": "2026-01-01"})
    with pytest.raises(Invalid, match="limit"):
        validate_model(DocumentQuery, {"limit": 1000})


def test_replace_deprecates_the_old_version(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    old = deposit_document(ctx, patient, patient_id, patient_meta(title="v1"), PDF)
    new = replace_document(ctx, patient, patient_id, old, patient_meta(title="v2", format="text/xml"), CDA)
    assert get_document(ctx, patient, patient_id, old).status == "deprecated"
    replacement = get_document(ctx, patient, patient_id, new)
    assert (replacement.status, replacement.replaces_id, replacement.title) == ("current", old, "v2")
    assert [d.id for d in list_documents(ctx, patient, patient_id, DocumentQuery()).items] == [new]
    assert {d.id for d in list_documents(ctx, patient, patient_id, DocumentQuery(status="any")).items} == {old, new}
    with pytest.raises(Invalid, match="deprecated"):
        replace_document(ctx, patient, patient_id, old, patient_meta(), PDF)


def test_withdraw_keeps_the_document_with_its_new_status(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    document_id = deposit_document(ctx, patient, patient_id, patient_meta(), PDF)
    withdraw_document(ctx, patient, patient_id, document_id)
    assert get_document(ctx, patient, patient_id, document_id).status == "withdrawn"
    assert list_documents(ctx, patient, patient_id, DocumentQuery()).items == []
    assert read_content(ctx, patient, patient_id, document_id)[1] == PDF
    with pytest.raises(Invalid, match="withdrawn"):
        withdraw_document(ctx, patient, patient_id, document_id)


def test_only_the_author_replaces_or_withdraws(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    by_professional = deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    with pytest.raises(Forbidden, match="Only the author"):
        withdraw_document(ctx, patient, patient_id, by_professional)
    with pytest.raises(Forbidden, match="Only the author"):
        replace_document(ctx, patient, patient_id, by_professional, patient_meta(), PDF)
    with pytest.raises(Forbidden):
        withdraw_document(ctx, SYSTEM, patient_id, by_professional)
    assert get_document(ctx, patient, patient_id, by_professional).status == "current"


def test_an_unauthorised_professional_gets_one_answer_whether_the_document_exists_or_not(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
    doctor = Actor.professional(rpps(), "10")
    answers = []
    for wanted in (document_id, uuid.uuid4()):
        with pytest.raises(Forbidden) as caught:
            get_document(ctx, doctor, patient_id, wanted)
        answers.append((caught.value.code, caught.value.message))
    assert answers[0] == answers[1] and answers[0][0] == "not-authorised"
    with pytest.raises(Forbidden, match="not authorised"):
        list_documents(ctx, doctor, patient_id, DocumentQuery())
    with pytest.raises(Forbidden, match="not authorised"):
        deposit_document(ctx, doctor, patient_id, document_meta(author=None), PDF)


def test_no_cross_patient_reads(ctx: Context) -> None:
    alice, bob = open_test_record(ctx), open_test_record(ctx)
    alice_doc = deposit_document(ctx, SYSTEM, alice, document_meta(), PDF)
    # Bob asks for Alice's document through his own record, and through hers: both look like nothing.
    with pytest.raises(NotFound, match="No such item"):
        get_document(ctx, Actor.patient(bob), bob, alice_doc)
    with pytest.raises(NotFound, match="No record"):
        read_content(ctx, Actor.patient(bob), alice, alice_doc)
    with pytest.raises(NotFound):
        get_document(ctx, Actor.patient(alice), alice, uuid.uuid4())


def test_a_search_finds_every_word_of_the_title_in_any_case_and_without_accents(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    patient = Actor.patient(patient_id)
    doctor = Actor.professional(rpps(61), "10")
    grant_authorisation(ctx, patient_id, doctor.ref, scope="read_write", via="patient")
    titles = ["Échographie abdominale", "Compte rendu de cardiologie", "Bilan sanguin", "Échographie cardiaque"]
    ids = {
        title: deposit_document(ctx, SYSTEM, patient_id, document_meta(title=title, act_date=date(2026, 1, n + 1)), PDF)
        for n, title in enumerate(titles)
    }

    def found(actor: Actor, words: str, **query: object) -> list[str]:
        page = list_documents(ctx, actor, patient_id, DocumentQuery.model_validate({"words": words, **query}))
        return [item.title for item in page.items]

    assert found(patient, "echographie") == ["Échographie cardiaque", "Échographie abdominale"]
    assert found(patient, "CARDIO compte") == ["Compte rendu de cardiologie"]
    assert found(patient, "échographie sanguin") == []
    assert found(patient, "echo", class_code="11") == []  # with the other filters
    first = list_documents(ctx, patient, patient_id, DocumentQuery(words="echographie", limit=1))
    assert [i.title for i in first.items] == ["Échographie cardiaque"] and first.next_offset == 1
    second = list_documents(ctx, patient, patient_id, DocumentQuery(words="echographie", limit=1, offset=1))
    assert [i.title for i in second.items] == ["Échographie abdominale"] and second.next_offset is None
    set_masked(ctx, patient, patient_id, ids["Échographie abdominale"], True)
    assert found(doctor, "echographie") == ["Échographie cardiaque"]  # a masked title is not searched for him
