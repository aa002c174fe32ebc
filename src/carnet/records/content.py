"""Checks that a document's bytes are what its declared format says, before anything is stored."""

from __future__ import annotations

import hashlib
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from carnet.kit.errors import Invalid, TooLarge
from carnet.records.codes import DocumentFormat

CDA_ROOT = "{urn:hl7-org:v3}ClinicalDocument"


def check_content(content: bytes, fmt: DocumentFormat, *, max_bytes: int) -> str:
    """Validate `content` for `fmt`; return its SHA-256 (hex)."""
    if not content:
        raise Invalid("The document is empty.", code="empty-content")
    if len(content) > max_bytes:
        raise TooLarge(
            f"The document is {len(content):,} bytes; the limit is {max_bytes:,} bytes.",
        )
    _CHECKS[fmt](content)
    return hashlib.sha256(content).hexdigest()


def _mislabelled(fmt: DocumentFormat, detail: str) -> Invalid:
    return Invalid(f"The content is not a valid {fmt.value} document: {detail}.", code="mislabelled-content")


def _check_pdf(content: bytes) -> None:
    # PDF readers accept the header anywhere in the first kilobyte and the end marker near the end.
    if b"%PDF-" not in content[:1024]:
        raise _mislabelled(DocumentFormat.PDF, "no %PDF- header")
    if b"%%EOF" not in content[-1024:]:
        raise _mislabelled(DocumentFormat.PDF, "no %%EOF end marker (truncated file?)")


def _check_cda(content: bytes) -> None:
    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException) as exc:
        raise _mislabelled(DocumentFormat.CDA, f"not well-formed XML ({exc})") from None
    if root.tag != CDA_ROOT:
        raise _mislabelled(DocumentFormat.CDA, f"the root element is {root.tag}, not a CDA ClinicalDocument")


def _check_text(content: bytes) -> None:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise _mislabelled(DocumentFormat.TEXT, "not UTF-8 text") from None
    if "\x00" in text:
        raise _mislabelled(DocumentFormat.TEXT, "contains NUL bytes")


def _check_jpeg(content: bytes) -> None:
    if not content.startswith(b"\xff\xd8\xff"):
        raise _mislabelled(DocumentFormat.JPEG, "no JPEG signature")


def _check_png(content: bytes) -> None:
    if not content.startswith(b"\x89PNG\r\n\x1a\n"):
        raise _mislabelled(DocumentFormat.PNG, "no PNG signature")


_CHECKS = {
    DocumentFormat.PDF: _check_pdf,
    DocumentFormat.CDA: _check_cda,
    DocumentFormat.TEXT: _check_text,
    DocumentFormat.JPEG: _check_jpeg,
    DocumentFormat.PNG: _check_png,
}
