"""The list filter runs in SQL; single reads run `decide()`. For every kind of reader, both must agree."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from carnet.access.actor import Actor
from carnet.access.service import authorise, link_representative, set_regular_doctor
from carnet.context import Context
from carnet.kit import clock
from carnet.kit.errors import CarnetError
from carnet.kit.professions import PROFESSIONS
from carnet.records.codes import DOCUMENT_CLASSES
from carnet.records.documents import deposit_document, get_document, list_documents, set_author_flags, set_masked
from carnet.records.schemas import DocumentQuery, PatientIdentity
from tests.factories import PDF, SYSTEM, document_meta, open_test_record, rpps

AUTHOR = Actor.professional(rpps(50), "60")


def listed(ctx: Context, actor: Actor, patient_id: uuid.UUID) -> set[uuid.UUID]:
    found: set[uuid.UUID] = set()
    offset: int | None = 0
    while offset is not None:
        page = list_documents(ctx, actor, patient_id, DocumentQuery(limit=7, offset=offset))
        found |= {d.id for d in page.items}
        offset = page.next_offset
    return found


def readable(ctx: Context, actor: Actor, patient_id: uuid.UUID, documents: list[uuid.UUID]) -> set[uuid.UUID]:
    out = set()
    for document_id in documents:
        try:
            get_document(ctx, actor, patient_id, document_id)
            out.add(document_id)
        except CarnetError:
            pass
    return out


def test_lists_show_exactly_what_single_reads_allow(ctx: Context) -> None:
    minor = PatientIdentity(
        family_name="Petit", given_names="Lou", birth_date=date(2014, 2, 2), sex="F", postcode="35000"
    )
    patient_id = open_test_record(ctx, identity=minor)
    patient = Actor.patient(patient_id)
    parent_id = open_test_record(ctx)
    link_representative(ctx, SYSTEM, patient_id, parent_id)
    authorise(ctx, patient, patient_id, AUTHOR.ref)
    documents = []
    flags = ("none", "masked", "hidden_from_patient")
    for class_code, flag, for_reps, own, directive in itertools.product(
        [c for c in DOCUMENT_CLASSES if c != "90"], flags, (False, True), (False, True), (False, True)
    ):
        meta = document_meta(class_code=class_code, type_code="42348-3" if directive else "11488-4")
        actor, meta = (AUTHOR, document_meta(**{**meta.model_dump(), "author": None})) if own else (SYSTEM, meta)
        document_id = deposit_document(ctx, actor, patient_id, meta, PDF)
        documents.append(document_id)
        if own and (flag == "hidden_from_patient" or for_reps):
            until = clock.now() + timedelta(days=10) if flag == "hidden_from_patient" else None
            set_author_flags(
                ctx,
                AUTHOR,
                patient_id,
                document_id,
                hidden_from_patient_until=until,
                hidden_from_representatives=for_reps,
            )
        if flag == "masked":
            set_masked(ctx, patient, patient_id, document_id, True)
    documents.append(deposit_document(ctx, patient, patient_id, document_meta(class_code="90", author=None), PDF))

    readers = [patient, Actor.patient(parent_id), AUTHOR]
    for index, profession in enumerate(sorted(PROFESSIONS)):
        professional = Actor.professional(rpps(100 + index), profession)
        authorise(ctx, patient, patient_id, professional.ref)
        readers.append(professional)
    regular = Actor.professional(rpps(99), "10")
    set_regular_doctor(ctx, patient, patient_id, regular.ref)
    readers.append(regular)

    for reader in readers:
        seen = listed(ctx, reader, patient_id)
        assert seen == readable(ctx, reader, patient_id, documents), reader
        assert seen, reader  # every reader here sees something: the comparison is not vacuous
    assert len(listed(ctx, patient, patient_id)) < len(documents)  # and some readers are refused something
