"""A CDA document's narrative as plain text to show a reader: its title, then each section's title and lines.

A CDA's human-readable part is its narrative block (`section/text`, or `nonXMLBody/text` for an unstructured
body). It is never rendered as markup: only its text is taken, line by line (a paragraph, a list item, a table
row), so nothing in a document can run or style anything in the page showing it. The parse is defusedxml's,
as for the checks made at deposit (records/content.py).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

V3 = "{urn:hl7-org:v3}"
# Narrative elements each making a line of their own; the others (content, sub, sup...) run on in their line.
LINES = frozenset({"paragraph", "item", "caption", "tr"})
CONTAINERS = frozenset({"list", "table", "thead", "tbody", "tfoot", "text"})
MAX_SECTIONS = 200
MAX_DEPTH = 5


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    lines: list[str]
    depth: int = 1


@dataclass(frozen=True, slots=True)
class Narrative:
    title: str
    sections: list[Section] = field(default_factory=list)


def _local(element: Element) -> str:
    return element.tag.removeprefix(V3) if isinstance(element.tag, str) else ""


def _clean(text: str) -> str:
    return " ".join(text.split())


def _text_of(element: Element) -> str:
    if _local(element) == "tr":
        return " · ".join(_clean("".join(cell.itertext())) for cell in element if _clean("".join(cell.itertext())))
    return _clean("".join(element.itertext()))


def _lines(element: Element) -> Iterator[str]:
    """The lines of a narrative block: each block element one line, inline text gathered between them."""
    pending: list[str] = [element.text or ""]

    def flush() -> Iterator[str]:
        line = _clean("".join(pending))
        pending.clear()
        if line:
            yield line

    for child in element:
        name = _local(child)
        if name in LINES:
            yield from flush()
            if line := _text_of(child):
                yield line
        elif name in CONTAINERS:
            yield from flush()
            yield from _lines(child)
        elif name == "br":
            yield from flush()
        elif name not in ("renderMultiMedia", "footnoteRef"):
            pending.append("".join(child.itertext()))
        pending.append(child.tail or "")
    yield from flush()


def _unstructured(text: Element) -> list[str]:
    """A nonXMLBody's text: as written, or decoded when it is base64 plain text."""
    if text.get("representation") == "B64":
        if not (text.get("mediaType") or "text/plain").startswith("text/plain"):
            return []
        try:
            decoded = base64.b64decode("".join(text.itertext()), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return []
        return [line.strip() for line in decoded.splitlines() if line.strip()]
    return [line.strip() for line in "".join(text.itertext()).splitlines() if line.strip()]


def _sections(parent: Element, depth: int, found: list[Section]) -> None:
    for component in parent.findall(f"{V3}component"):
        section = component.find(f"{V3}section")
        if section is None or len(found) >= MAX_SECTIONS:
            continue
        title = section.find(f"{V3}title")
        text = section.find(f"{V3}text")
        found.append(
            Section(
                title=_clean("".join(title.itertext())) if title is not None else "",
                lines=list(_lines(text)) if text is not None else [],
                depth=depth,
            )
        )
        if depth < MAX_DEPTH:
            _sections(section, depth + 1, found)


def cda_narrative(content: bytes) -> Narrative | None:
    """The narrative of a CDA document as text; None when the bytes are not a CDA document."""
    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException):
        return None
    if root.tag != f"{V3}ClinicalDocument":
        return None
    title = root.find(f"{V3}title")
    narrative = Narrative(title=_clean("".join(title.itertext())) if title is not None else "")
    body = root.find(f"{V3}component")
    if body is None:
        return narrative
    unstructured = body.find(f"{V3}nonXMLBody/{V3}text")
    if unstructured is not None:
        narrative.sections.append(Section(title="", lines=_unstructured(unstructured)))
    structured = body.find(f"{V3}structuredBody")
    if structured is not None:
        _sections(structured, 1, narrative.sections)
    return narrative
