"""What an attacker with the raw database (a dump, a backup, a replica) can read: no medical content."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from carnet.access.actor import Actor
from carnet.context import Context
from carnet.kit.crypto import DataKey, DecryptionError
from carnet.kit.errors import Gone
from carnet.models import metadata
from carnet.records.documents import deposit_document, read_content
from carnet.records.models import Document, DocumentContent, RecordKey
from carnet.records.profile import add_profile_entry
from carnet.records.schemas import PatientIdentity
from carnet.records.service import destroy_record, request_destruction
from tests.factories import SYSTEM, document_meta, new_ins, open_test_record

NEEDLE = "Zyxomalgie-de-Kerbrat"  # a diagnosis no real text contains


def raw_values(ctx: Context) -> list[object]:
    """Every value of every row of every table, as the database holds it."""
    values: list[object] = []
    for table in metadata.sorted_tables:
        for row in ctx.session.execute(text(f"SELECT * FROM {table.name}")):  # noqa: S608 - our own table names
            values.extend(row)
    return values


def occurrences(values: list[object], needle: str) -> int:
    encoded = needle.encode()
    found = 0
    for value in values:
        if (isinstance(value, str) and needle in value) or (
            isinstance(value, (bytes, memoryview)) and encoded in bytes(value)
        ):
            found += 1
    return found


def test_no_plaintext_of_a_record_reaches_the_database(ctx: Context) -> None:
    ins = new_ins()
    identity = PatientIdentity(
        family_name=f"{NEEDLE}-name", given_names="Anne", birth_date="1970-01-01", sex="F", postcode="29200"
    )
    patient_id = open_test_record(ctx, ins=ins, identity=identity)
    meta = document_meta(title=f"Diagnostic : {NEEDLE}", format="text/plain")
    deposit_document(ctx, SYSTEM, patient_id, meta, f"Le patient présente une {NEEDLE}.".encode())
    patient = Actor.patient(patient_id)
    add_profile_entry(ctx, patient, patient_id, {"kind": "medical_history", "condition": NEEDLE})
    add_profile_entry(
        ctx,
        patient,
        patient_id,
        {"kind": "emergency_contact", "name": NEEDLE, "relation": "sœur", "phone": "0600000000"},
    )
    ctx.session.flush()

    values = raw_values(ctx)
    assert occurrences(values, ins) == 1, "the scanner must find what is stored in clear (the INS, an identifier)"
    assert occurrences(values, NEEDLE) == 0


def test_destroying_a_record_makes_its_content_unrecoverable(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    secret = f"Compte rendu : {NEEDLE}".encode()
    document_id = deposit_document(ctx, SYSTEM, patient_id, document_meta(format="text/plain"), secret)
    ctx.session.flush()

    # Before: the raw rows plus the master key give the content back.
    key_row = ctx.session.get(RecordKey, patient_id)
    assert key_row is not None
    wrapped = bytes(key_row.wrapped_key)
    content_id = ctx.session.scalars(select(Document.content_id).where(Document.id == document_id)).one()
    ciphertext = bytes(ctx.session.get_one(DocumentContent, (patient_id, content_id)).content_ct)
    aad = f"document_contents:{patient_id}:{content_id}"
    master = ctx.keys.get(key_row.master_key_id)
    assert master.unwrap(wrapped, context=str(patient_id)).decrypt(ciphertext, aad=aad) == secret

    request_destruction(ctx, Actor.patient(patient_id), patient_id)
    destroy_record(ctx, Actor.system("destruction"), patient_id)
    ctx.session.flush()
    ctx.session.expunge_all()

    # After: the ciphertext is still on disk, but no row anywhere holds the key that opens it.
    blobs = [bytes(v) for v in raw_values(ctx) if isinstance(v, (bytes, memoryview))]
    assert ciphertext in blobs
    assert not any(wrapped in blob for blob in blobs)
    for candidate in (master.material, *(blob[:32] for blob in blobs if len(blob) >= 32)):
        with pytest.raises(DecryptionError):
            DataKey(candidate).decrypt(ciphertext, aad=aad)
    with pytest.raises(Gone, match="destroyed"):
        read_content(ctx, Actor.patient(patient_id), patient_id, document_id)


def test_a_ciphertext_moved_to_another_row_does_not_decrypt(ctx: Context) -> None:
    patient_id = open_test_record(ctx)
    first = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Bilan A"), b"%PDF-1 A %%EOF")
    second = deposit_document(ctx, SYSTEM, patient_id, document_meta(title="Bilan B"), b"%PDF-1 B %%EOF")
    ctx.session.flush()
    a, b = (ctx.session.get_one(Document, i) for i in (first, second))
    a.title_ct = b.title_ct  # an attacker with write access swaps ciphertexts between rows
    ctx.session.flush()
    with pytest.raises(DecryptionError):
        read_content(ctx, Actor.patient(patient_id), patient_id, first)
    assert read_content(ctx, Actor.patient(patient_id), patient_id, second)[0].title == "Bilan B"
