"""Who is asking, proven: cards and their challenges, patient and operator accounts, sessions, software clients.

Secrets are never stored: passwords as argon2id hashes, one-time codes and session or recovery tokens as
SHA-256 digests of high-entropy random values, TOTP seeds encrypted (a patient's under the record's data key).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    ARRAY,
    BigInteger,
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


class VitaleCard(Base):
    """A carte Vitale: its serial, its holder's INS and its public key. The private key never leaves the card.

    The insurer issues cards to insured people whether or not they have a record yet: presenting the card is
    how a record gets opened at a desk or a pharmacy counter.
    """

    __tablename__ = "vitale_cards"

    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    ins: Mapped[str] = mapped_column(String(15))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The contact the insurer holds for the card's holder (an online opening's code goes there), encrypted
    # under a key of the card's own wrapped by the master key: no record, hence no record key, may exist yet.
    master_key_id: Mapped[str | None] = mapped_column(String(16))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_email_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    contact_phone_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_vitale_cards_ins", "ins"),)


class CardMinor(Base):
    """A minor covered on a card ("ayant droit"): the insurer knows the card's holder as their parent, which is
    where a legal representative's link to the minor's record comes from (identity.registry.link_family)."""

    __tablename__ = "card_minors"

    card_serial: Mapped[str] = mapped_column(ForeignKey("vitale_cards.serial", ondelete="CASCADE"), primary_key=True)
    minor_ins: Mapped[str] = mapped_column(String(15), primary_key=True, index=True)
    birth_date: Mapped[date] = mapped_column(Date)  # as the insurer knows it: when the cover as a minor ends
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OnlineOpening(Base):
    """A patient opening their own record online: the code sent to the card's contact, then the activation.

    The browser holds a random token (the table its digest). Once the code is proven and the record open,
    the activation code issued for it is kept here, encrypted under the record's key, until the patient
    chooses their login and password in the same journey: it never travels to the browser.
    """

    __tablename__ = "online_openings"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    card_serial: Mapped[str] = mapped_column(ForeignKey("vitale_cards.serial", ondelete="CASCADE"))
    code_hash: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    proven_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.patient_id", ondelete="CASCADE"))
    activation_ct: Mapped[bytes | None] = mapped_column(LargeBinary)

    __table_args__ = (Index("ix_online_openings_card_serial", "card_serial"),)


class CardChallenge(Base):
    """A fresh nonce a professional's card reader asks the card to sign; usable once, briefly."""

    __tablename__ = "card_challenges"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # The RPPS of the professional, or "desk:<staff id>" of an insurance desk agent, the reader belongs to.
    professional_rpps: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CardVisit(Base):
    """A carte Vitale read at a counter, a desk or a surgery: its signature was checked once, and what follows for
    the same visitor (opening their record after a typo, printing their letter, linking their child) needs no
    second reading. Short-lived, and only for the reader that read it."""

    __tablename__ = "card_visits"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    reader: Mapped[str] = mapped_column(String(40))  # identity.cards.reader_of: an RPPS or "desk:<staff id>"
    card_serial: Mapped[str] = mapped_column(String(20))
    ins: Mapped[str] = mapped_column(String(15))
    read_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DirectoryEntry(Base):
    """A professional as the national directory knows them: enough to reach them, nothing about patients."""

    __tablename__ = "professional_directory"

    rpps: Mapped[str] = mapped_column(String(11), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str] = mapped_column(String(2))
    email: Mapped[str] = mapped_column(String(254))  # a secure health messaging address (MSSanté)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(64))


class ActivationCode(Base):
    """The one-time code that lets a patient activate their online account; single use, 30 days."""

    __tablename__ = "activation_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_by: Mapped[str] = mapped_column(String(40))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_activation_codes_patient_id", "patient_id"),)


class PatientAccount(Base):
    """A patient's online account: a login name, an argon2id password hash and a second factor."""

    __tablename__ = "patient_accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("records.patient_id"), unique=True)
    # What the patient signs in with: a name of their choosing or their e-mail address, lower-cased.
    login: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    second_factor: Mapped[str] = mapped_column(String(8))
    totp_secret_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The last TOTP time step accepted: a code of that step or an earlier one is spent (identity/otp.py).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # When the authenticator app's first code was accepted: until then the app's copy of the seed is unproven
    # (identity.accounts.activate explains what that changes).
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The digest of the activation's half-done session: the one that may see the seed again until confirmed.
    enrolment_session_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (CheckConstraint("second_factor IN ('totp', 'email', 'sms')", name="second_factor"),)


class OperatorAccount(Base):
    """A staff account for operations: statistics, audit, keys. Operators never read medical content."""

    __tablename__ = "operator_accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    # The TOTP seed, under a key of its own wrapped by the master key.
    master_key_id: Mapped[str] = mapped_column(String(16))
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    totp_secret_ct: Mapped[bytes] = mapped_column(LargeBinary)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # see PatientAccount
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A server-side session; the browser holds a random token, the table its digest only."""

    __tablename__ = "login_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    # "second-factor" between the password and the second factor, "active" once both are proven.
    stage: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    authenticated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A one-time code sent by e-mail or SMS for the second factor or a re-authentication.
    code_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    code_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    code_attempts: Mapped[int] = mapped_column(Integer, default=0)
    address: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A legal representative's session may show the record of a minor they represent instead of their own;
    # the gate still decides every access from the representatives table.
    acting_for: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("records.patient_id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("subject_kind IN ('patient', 'operator')", name="subject_kind"),
        CheckConstraint("stage IN ('second-factor', 'active')", name="stage"),
        Index("ix_login_sessions_subject", "subject_kind", "subject_id", postgresql_where=text("revoked_at IS NULL")),
    )


class FormSubmission(Base):
    """A form's one-time key, claimed by the write it asked for: the same form sent twice writes once.

    Claimed in the write's own transaction, so a write that fails leaves the key free for the retry, and two
    sends at once queue on the key: the second finds it taken once the first commits."""

    __tablename__ = "form_submissions"

    key_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column()
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class KnownDevice(Base):
    """A browser that completed a login: a lock-out raised by strangers' failures does not stop it."""

    __tablename__ = "known_devices"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginThrottle(Base):
    """Failed attempts against one login name, one device or one network address, and the lock they caused."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryToken(Base):
    """A password reset token sent to the patient's own address; single use, one hour."""

    __tablename__ = "recovery_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patient_accounts.id", ondelete="CASCADE"))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_recovery_tokens_account_id", "account_id"),)


class SoftwareClient(Base):
    """A registered piece of professional software (OAuth2 client), bound to the professional who uses it."""

    __tablename__ = "software_clients"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    secret_hash: Mapped[str] = mapped_column(String(200))
    rpps: Mapped[str] = mapped_column(String(11))
    profession: Mapped[str] = mapped_column(String(2))
    organisation: Mapped[str | None] = mapped_column(String(9))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(80)))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A health professional's, a pharmacy counter's or an insurance desk agent's portal session.

    They have no account in Carnet: who they are comes from their identity provider (or, in development, from
    the directory), so the session row carries the identity the sign-in proved, and the browser holds a random
    token whose digest is the key.
    """

    __tablename__ = "staff_sessions"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary, primary_key=True)
    space: Mapped[str] = mapped_column(String(12))  # professional, pharmacy, desk: which space's pages
    ref: Mapped[str] = mapped_column(String(32))  # an RPPS, or a desk agent's staff id
    name: Mapped[str] = mapped_column(String(120))
    profession: Mapped[str | None] = mapped_column(String(2))
    organisation: Mapped[str | None] = mapped_column(String(32))  # a FINESS, or a desk's office code
    via: Mapped[str] = mapped_column(String(12))  # oidc, development
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("space IN ('professional', 'pharmacy', 'desk')", name="space"),
        CheckConstraint("via IN ('oidc', 'development')", name="via"),
    )
