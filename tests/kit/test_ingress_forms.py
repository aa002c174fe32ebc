"""The guard's body checks: url-encoded forms are text checked field by field; a multipart form carries bytes."""

from __future__ import annotations

import pytest

from carnet.kit.errors import BadRequest, CarnetError
from carnet.kit.ingress import check_body


def test_a_multipart_form_may_carry_binary_files() -> None:
    check_body("multipart/form-data", b"--x\r\n\x89PNG\r\n\x1a\n\x00\xff\xfe--x--")  # a PNG is not UTF-8


def test_a_url_encoded_form_is_still_utf_8_text_without_nul() -> None:
    with pytest.raises(BadRequest, match="UTF-8"):
        check_body("application/x-www-form-urlencoded", b"title=\xff")
    with pytest.raises(CarnetError):
        check_body("application/x-www-form-urlencoded", b"title=a%00b")
