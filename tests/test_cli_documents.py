"""`carnet documents convert` as an operator runs it: progress, a count, and nothing left on a second run."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from carnet.audit import service as audit_service
from carnet.context import Context
from carnet.kit.crypto import generate_master_key_text, parse_master_keys
from carnet.kit.db import make_engine, make_sessionmaker
from carnet.records.models import Document
from tests.factories import open_test_record, rpps
from tests.records.legacy_documents import legacy_document
from tests.test_cli import run


def test_convert_stores_old_documents_resources_and_is_idempotent(
    fresh_database: Callable[[], str], base_env: dict[str, str]
) -> None:
    url, key = fresh_database(), generate_master_key_text()
    env = {**base_env, "CARNET_DATABASE_URL": url, "CARNET_MASTER_KEY": key}
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            ctx = Context(session=session, keys=parse_master_keys(key, source="test"), max_document_bytes=1024)
            patient_id = open_test_record(ctx)
            for versions in (1, 2, 3):
                legacy_document(ctx, patient_id, author_rpps=rpps(5), versions=versions)
            audit_service.write_events(session, ctx.audit)  # the opening is audited, as a unit of work does
        first = run(env, "documents", "convert", "--batch-size", "2")
        assert first.returncode == 0, first.stderr
        assert "Converted 3 documents" in first.stdout
        assert "3/3" in first.stderr  # the progress bar
        again = run(env, "documents", "convert")
        assert "Converted 0 documents" in again.stdout
        with engine.connect() as connection:
            pending = select(func.count()).select_from(Document).where(Document.resource_ct.is_(None))
            assert connection.scalar(pending) == 0
    finally:
        engine.dispose()
