from __future__ import annotations

import base64
from pathlib import Path

import pytest

from carnet.kit.crypto import (
    DecryptionError,
    MasterKey,
    generate_master_key_text,
    key_provider_from_file,
    new_data_key,
    parse_master_keys,
)
from carnet.kit.errors import ConfigurationError


def test_data_key_round_trip_is_bound_to_its_associated_data() -> None:
    key = new_data_key()
    blob = key.encrypt(b"secret diagnosis", aad="documents.title:1")
    assert b"secret diagnosis" not in blob
    assert key.decrypt(blob, aad="documents.title:1") == b"secret diagnosis"
    with pytest.raises(DecryptionError):
        key.decrypt(blob, aad="documents.title:2")
    with pytest.raises(DecryptionError):
        new_data_key().decrypt(blob, aad="documents.title:1")
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(DecryptionError):
        key.decrypt(tampered, aad="documents.title:1")


def test_two_encryptions_of_the_same_text_differ() -> None:
    key = new_data_key()
    assert key.encrypt(b"x", aad="a") != key.encrypt(b"x", aad="a")


def test_wrapping_binds_the_data_key_to_its_record() -> None:
    master = parse_master_keys(generate_master_key_text(), source="test").current()
    data = new_data_key()
    wrapped = master.wrap(data, context="patient-1")
    assert master.unwrap(wrapped, context="patient-1") == data
    with pytest.raises(DecryptionError):
        master.unwrap(wrapped, context="patient-2")


def test_key_material_never_shows_in_repr() -> None:
    master = MasterKey.from_material(b"k" * 32)
    assert "kkkk" not in repr(master)
    data = new_data_key()
    assert repr(data.material) not in repr(data)


def test_first_key_is_current_and_older_ones_stay_usable() -> None:
    first, second = generate_master_key_text(), generate_master_key_text()
    provider = parse_master_keys(f"{first}\n{second}", source="test")
    assert provider.current().key_id == MasterKey.from_material(base64.b64decode(first)).key_id
    assert len(provider.key_ids()) == 2
    with pytest.raises(ConfigurationError, match="not among the configured"):
        provider.get("0000000000000000")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("not base64!", "not valid base64"),
        (base64.b64encode(b"short").decode(), "32 bytes"),
    ],
)
def test_bad_master_key_text_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=fragment):
        parse_master_keys(text, source="CARNET_MASTER_KEY")


def test_key_file(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    with pytest.raises(ConfigurationError, match="does not exist"):
        key_provider_from_file(path)
    path.write_text("# comment\n" + generate_master_key_text() + "\n")
    assert len(key_provider_from_file(path).key_ids()) == 1
