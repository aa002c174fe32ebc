"""Tables of the record. Every patient-owned table carries `patient_id` and is indexed by it first.

Columns named `*_ct` hold AES-256-GCM ciphertext under the record's data key (see kit/crypto).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from carnet.kit.db import Base


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Record(Base):
    """One patient's record, and the patient it belongs to (the patient id is the record id)."""

    __tablename__ = "records"

    patient_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The patient's INS while the record lives; removed when it is destroyed, which leaves no identity behind.
    ins: Mapped[str | None] = mapped_column(String(15))
    state: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(20))
    opened_by: Mapped[str] = mapped_column(String(32))
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    departement: Mapped[str] = mapped_column(String(3))
    region: Mapped[str] = mapped_column(String(2))
    identity_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The Patient resource as its opener sent it over FHIR (JSON, Carnet's elements out); none if opened at a desk.
    patient_resource_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    destruction_requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the purge job removed what remained of the destroyed record (records.retention); its trail stays.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(_in("state", ["open", "closed", "destroyed"]), name="state"),
        CheckConstraint("(ins IS NULL) = (state = 'destroyed')", name="ins_while_living"),
        CheckConstraint(
            _in("channel", ["online", "pharmacy", "insurance_desk", "professional", "hospital"]),
            name="channel",
        ),
        # One living record per INS; a destroyed one does not prevent opening a new record.
        Index("uq_records_ins_living", "ins", unique=True, postgresql_where=text("state <> 'destroyed'")),
        Index("ix_records_opened_at", "opened_at"),
        Index(
            "ix_records_to_purge", "destroyed_at", postgresql_where=text("state = 'destroyed' AND purged_at IS NULL")
        ),
    )


class RecordKey(Base):
    """The record's data key, wrapped by a master key. Deleting this row destroys the record's content."""

    __tablename__ = "record_keys"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    master_key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MasterKeyInUse(Base):
    """Master keys that wrap data keys in this database, so a wrong key is refused at start-up."""

    __tablename__ = "master_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Document(Base):
    """A document's metadata: the DocumentReference as written, encrypted (`resource_ct`), with columns derived
    from it by `records.document_types.derive_document` for the access rules, lists and search. Documents
    deposited before resources were kept have no `resource_ct` until `carnet documents convert`."""

    __tablename__ = "documents"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    class_code: Mapped[str] = mapped_column(String(2))
    type_code: Mapped[str] = mapped_column(String(10))
    title_ct: Mapped[bytes] = mapped_column(LargeBinary)
    act_date: Mapped[date] = mapped_column(Date)
    author_kind: Mapped[str] = mapped_column(String(12))
    author_ref: Mapped[str] = mapped_column(String(36))
    author_name_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    author_organisation: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deposited_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    format: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    replaces_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    content_id: Mapped[uuid.UUID] = mapped_column()
    # Visibility flags (SPEC §4.5): masked by the patient; hidden from the patient until a date, by the author;
    # hidden from legal representatives, by the author.
    masked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    hidden_from_patient_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_from_representatives: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The sender's unique id of the document (XDS uniqueId, FHIR masterIdentifier): a resubmission is recognised.
    master_identifier: Mapped[str | None] = mapped_column(String(128))
    # Every change of status or flags is a new version (FHIR meta.versionId), kept in document_versions.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The DocumentReference of the current version as written (without the content), and its docStatus.
    resource_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    doc_status: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        CheckConstraint(_in("status", ["current", "deprecated", "withdrawn"]), name="status"),
        CheckConstraint(_in("author_kind", ["patient", "professional"]), name="author_kind"),
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("NOT (masked AND hidden_from_patient_until IS NOT NULL)", name="masked_or_hidden"),
        Index("ix_documents_patient_act_date", "patient_id", text("act_date DESC"), text("deposited_at DESC")),
        Index(
            "uq_documents_patient_master_identifier",
            "patient_id",
            "master_identifier",
            unique=True,
            postgresql_where=text("master_identifier IS NOT NULL"),
        ),
        # At most one newer version per document: a replacement chain never forks.
        Index(
            "uq_documents_replaces_id",
            "replaces_id",
            unique=True,
            postgresql_where=text("replaces_id IS NOT NULL"),
        ),
    )


class DocumentVersion(Base):
    """Each version of a document: its status and visibility flags, and the DocumentReference its writer sent
    (`resource_ct`, None for versions recorded before resources were kept, until they are converted)."""

    __tablename__ = "document_versions"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))
    masked: Mapped[bool] = mapped_column(Boolean)
    hidden_from_patient_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hidden_from_representatives: Mapped[bool] = mapped_column(Boolean)
    resource_ct: Mapped[bytes | None] = mapped_column(LargeBinary)


class DocumentContent(Base):
    """Encrypted document contents (the PostgreSQL content store)."""

    __tablename__ = "document_contents"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    content_ct: Mapped[bytes] = mapped_column(LargeBinary)


class ProfileEntry(Base):
    """A structured entry of the medical profile: the FHIR resource as written, encrypted (`resource_ct`).

    The other columns are derived from the resource by `records.profile_types.derive`, for the access rules
    and lists. Entries stored before resources were kept hold `payload_ct` (one kind's schema) until
    `carnet profile convert` turns them into their resource.
    """

    __tablename__ = "profile_entries"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    kind: Mapped[str] = mapped_column(String(24))
    source_class: Mapped[str] = mapped_column(String(2))
    author_kind: Mapped[str] = mapped_column(String(12))
    author_ref: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(8))  # Carnet's: active, or retired by its author
    payload_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    resource_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    resource_type: Mapped[str | None] = mapped_column(String(32))
    resource_status: Mapped[str | None] = mapped_column(String(32))  # the resource's own (clinical) status
    verification_status: Mapped[str | None] = mapped_column(String(32))
    in_error: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    occurred_on: Mapped[date | None] = mapped_column(Date)
    author_rpps: Mapped[str | None] = mapped_column(String(11))  # the professional the resource names

    __table_args__ = (
        CheckConstraint(_in("status", ["active", "retired"]), name="status"),
        CheckConstraint(_in("author_kind", ["patient", "professional"]), name="author_kind"),
        CheckConstraint("(payload_ct IS NULL) <> (resource_ct IS NULL)", name="payload_or_resource"),
        Index("ix_profile_entries_patient_kind", "patient_id", "kind", "recorded_at"),
    )
