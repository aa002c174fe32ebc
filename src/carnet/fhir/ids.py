"""FHIR ids of items: the record's id and the item's id, so every read stays within one patient's rows.

A Patient's id is its patient id. Any other item's id is `<record>.<item>`, each a UUID in lower-case
base32 without padding (26 characters): 53 characters, within FHIR's 64.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from carnet.access.gate import NO_SUCH_ITEM, NO_SUCH_RECORD
from carnet.kit.errors import NotFound


def _short(value: uuid.UUID) -> str:
    return base64.b32encode(value.bytes).decode().rstrip("=").lower()


def _long(text: str) -> uuid.UUID:
    if len(text) != 26:
        raise ValueError(text)
    return uuid.UUID(bytes=base64.b32decode(text.upper() + "======"))


def item_id(patient_id: uuid.UUID, item: uuid.UUID) -> str:
    return f"{_short(patient_id)}.{_short(item)}"


def parse_item_id(text: str) -> tuple[uuid.UUID, uuid.UUID]:
    """(patient id, item id); a malformed id names nothing, and answers like a missing item."""
    record, _, item = text.partition(".")
    try:
        return _long(record), _long(item)
    except (ValueError, binascii.Error):
        raise NotFound(NO_SUCH_ITEM) from None


def patient_id_of(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise NotFound(NO_SUCH_RECORD) from None


def named_item_id(patient_id: uuid.UUID, name: str) -> str:
    """An item named by a word rather than a UUID (a Consent: `auth-<rpps>`, `optout-emergency`)."""
    return f"{_short(patient_id)}.{name}"


def parse_named_item_id(text: str) -> tuple[uuid.UUID, str]:
    record, _, name = text.partition(".")
    try:
        return _long(record), name
    except (ValueError, binascii.Error):
        raise NotFound(NO_SUCH_ITEM) from None
