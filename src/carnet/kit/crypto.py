"""Envelope encryption: per-record data keys (AES-256-GCM) wrapped by a master key held outside the database.

Every ciphertext is bound to the identity of what it protects through associated data (for instance
``documents.content:<document id>``), so a ciphertext copied onto another row does not decrypt.
Nothing here decrypts implicitly, and no key material appears in a repr.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from carnet.kit.errors import ConfigurationError

_FORMAT = b"\x01"  # version of the ciphertext layout: format byte, 12-byte nonce, ciphertext and tag
_NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong associated data, or tampered bytes."""


def _seal(key: bytes, plaintext: bytes, aad: str) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return _FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad.encode())


def _open(key: bytes, blob: bytes, aad: str) -> bytes:
    if len(blob) < 1 + _NONCE_BYTES + 16 or blob[:1] != _FORMAT:
        raise DecryptionError("not a Carnet ciphertext")
    nonce, body = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad.encode())
    except InvalidTag as exc:
        raise DecryptionError("ciphertext did not authenticate") from exc


@dataclass(frozen=True, slots=True)
class DataKey:
    """A record's data key, in clear, only in memory and only while a request needs it."""

    material: bytes = field(repr=False)

    def encrypt(self, plaintext: bytes, *, aad: str) -> bytes:
        return _seal(self.material, plaintext, aad)

    def decrypt(self, blob: bytes, *, aad: str) -> bytes:
        return _open(self.material, blob, aad)

    def encrypt_text(self, text: str, *, aad: str) -> bytes:
        return self.encrypt(text.encode("utf-8"), aad=aad)

    def decrypt_text(self, blob: bytes, *, aad: str) -> str:
        return self.decrypt(blob, aad=aad).decode("utf-8")


def new_data_key() -> DataKey:
    return DataKey(AESGCM.generate_key(bit_length=256))


@dataclass(frozen=True, slots=True)
class MasterKey:
    key_id: str
    material: bytes = field(repr=False)

    @classmethod
    def from_material(cls, material: bytes) -> MasterKey:
        if len(material) != KEY_BYTES:
            raise ConfigurationError(f"A master key is {KEY_BYTES} bytes; this one has {len(material)}.")
        # The id names the key without revealing it: a hash of 256 random bits cannot be inverted.
        key_id = hashlib.sha256(b"carnet-master-key-id:" + material).hexdigest()[:16]
        return cls(key_id=key_id, material=material)

    def wrap(self, data_key: DataKey, *, context: str) -> bytes:
        return _seal(self.material, data_key.material, f"data-key:{context}")

    def unwrap(self, wrapped: bytes, *, context: str) -> DataKey:
        return DataKey(_open(self.material, wrapped, f"data-key:{context}"))


class KeyProvider(Protocol):
    """Where master keys come from: a file, the environment, or a KMS in a real deployment."""

    def current(self) -> MasterKey: ...

    def get(self, key_id: str) -> MasterKey: ...

    def key_ids(self) -> frozenset[str]: ...


class StaticKeyProvider:
    """Master keys known in advance; the first is the one new data keys are wrapped with.

    Older keys stay listed during a rotation so that data keys wrapped by them can still be unwrapped.
    """

    def __init__(self, keys: list[MasterKey]) -> None:
        if not keys:
            raise ConfigurationError("No master key given.")
        self._keys = {key.key_id: key for key in keys}
        self._current = keys[0]

    def current(self) -> MasterKey:
        return self._current

    def get(self, key_id: str) -> MasterKey:
        try:
            return self._keys[key_id]
        except KeyError:
            raise ConfigurationError(
                f"The master key {key_id} that wraps this data is not among the configured master keys."
            ) from None

    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)


def generate_master_key_text() -> str:
    """A new master key, base64-encoded, for a key file or the environment."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def parse_master_keys(text: str, *, source: str) -> StaticKeyProvider:
    """Keys as base64 text, one per line or comma-separated; the first is current."""
    parts = [part.strip() for line in text.splitlines() for part in line.split(",")]
    parts = [part for part in parts if part and not part.startswith("#")]
    if not parts:
        raise ConfigurationError(f"The master key from {source} is empty.")
    keys = []
    for index, part in enumerate(parts, start=1):
        try:
            material = base64.b64decode(part, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"Master key {index} from {source} is not valid base64.") from None
        try:
            keys.append(MasterKey.from_material(material))
        except ConfigurationError as exc:
            raise ConfigurationError(f"Master key {index} from {source}: {exc.message}") from None
    return StaticKeyProvider(keys)


def key_provider_from_file(path: Path) -> StaticKeyProvider:
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ConfigurationError(f"The master key file {path} does not exist.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"The master key file {path} cannot be read: {exc}.") from None
    return parse_master_keys(text, source=str(path))


@dataclass(frozen=True)
class SealingKey:
    """An Ed25519 signing key (audit seals, access tokens) from a base64 seed; it never enters the database."""

    private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def from_text(cls, text: str, *, source: str, what: str = "audit sealing key") -> SealingKey:
        try:
            seed = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ConfigurationError(f"The {what} from {source} is not valid base64.") from None
        if len(seed) != 32:
            raise ConfigurationError(f"The {what} from {source} is not 32 bytes.")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.public()).hexdigest()[:16]
