"""A record's data key: created with the record, unwrapped on demand, destroyed with the record."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from carnet.context import Context
from carnet.kit import clock
from carnet.kit.crypto import DataKey, DecryptionError, KeyProvider
from carnet.kit.errors import ConfigurationError, Gone
from carnet.records import repository
from carnet.records.models import RecordKey


def store_data_key(ctx: Context, patient_id: uuid.UUID, data_key: DataKey) -> None:
    """Keep a new record's data key, wrapped by the current master key."""
    master = ctx.keys.current()
    repository.register_master_key(ctx.session, master.key_id, clock.now())
    ctx.session.add(
        RecordKey(
            patient_id=patient_id,
            master_key_id=master.key_id,
            wrapped_key=master.wrap(data_key, context=str(patient_id)),
            created_at=clock.now(),
        )
    )
    ctx.data_keys[patient_id] = data_key


def data_key(ctx: Context, patient_id: uuid.UUID) -> DataKey:
    cached = ctx.data_keys.get(patient_id)
    if cached is not None:
        return cached
    row = repository.get_record_key(ctx.session, patient_id)
    if row is None:
        raise Gone("This record's content was destroyed.", code="record-destroyed")
    try:
        key = ctx.keys.get(row.master_key_id).unwrap(row.wrapped_key, context=str(patient_id))
    except DecryptionError:
        raise ConfigurationError(
            f"The data key of a record does not unwrap with master key {row.master_key_id}."
        ) from None
    ctx.data_keys[patient_id] = key
    return key


def shred_data_key(ctx: Context, patient_id: uuid.UUID) -> None:
    ctx.data_keys.pop(patient_id, None)
    repository.delete_record_key(ctx.session, patient_id)


def verify_master_keys(session: Session, keys: KeyProvider) -> None:
    """Refuse to run with master keys that cannot unwrap the data keys already in this database."""
    missing = repository.master_key_ids_in_use(session) - keys.key_ids()
    if missing:
        raise ConfigurationError(
            "The configured master key is not the one this database's data keys are wrapped with "
            f"(the database needs key id {', '.join(sorted(missing))}; configured: "
            f"{', '.join(sorted(keys.key_ids()))}). Check CARNET_MASTER_KEY or CARNET_MASTER_KEY_FILE."
        )


def data_keys_by_master(session: Session) -> dict[str, int]:
    """How many records' data keys each master key id wraps (`carnet keys status` adds the other wrapped keys)."""
    return repository.data_keys_by_master(session)
