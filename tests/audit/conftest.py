"""A small trail on a database of its own: two patients, their records opened, a document, a doctor."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from carnet.access.actor import Actor
from carnet.access.service import authorise
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.records.documents import deposit_document, list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import unit_of_work
from tests.factories import PDF, SYSTEM, document_meta, new_ins, open_test_record, rpps

DOCTOR = Actor.professional(rpps(21), "10")


@dataclass
class Trail:
    url: str
    app: Engine  # as the application connects: role carnet_app
    owner: Engine  # as the database owner (a DBA, or an attacker with those rights)
    key: str
    patients: list[uuid.UUID]
    ins: list[str]


@pytest.fixture
def trail(fresh_database: Callable[[], str]) -> Iterator[Trail]:
    url = fresh_database()
    app, owner = make_engine(url), make_engine(url, role=None)
    key = generate_master_key_text()
    keys = parse_master_keys(key, source="test")
    sessions = make_sessionmaker(app)
    patients, ins = [], []
    for _ in range(2):
        with unit_of_work(sessions, keys, max_document_bytes=1_000_000) as ctx:
            ins.append(new_ins())
            patient_id = open_test_record(ctx, ins=ins[-1])
            patients.append(patient_id)
            deposit_document(ctx, SYSTEM, patient_id, document_meta(), PDF)
            authorise(ctx, Actor.patient(patient_id), patient_id, DOCTOR.ref)
        with unit_of_work(sessions, keys, max_document_bytes=1_000_000, source="10.0.0.7") as ctx:
            list_documents(ctx, DOCTOR, patient_id, DocumentQuery())
    yield Trail(url, app, owner, key, patients, ins)
    app.dispose()
    owner.dispose()
