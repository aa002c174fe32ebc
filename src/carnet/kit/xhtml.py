"""FHIR narrative (`text.div`) checked before anything is stored: well-formed XHTML, as R4 restricts it.

R4 (Narrative, constraints txt-1 and txt-2) allows a `div` in the XHTML namespace holding only basic
formatting: no script, form, frame, object, head or body, no event attribute (`onclick`), no
`javascript:` link; and it must say something (text or an image). Carnet keeps the narrative as written
and never renders it raw; this check refuses, naming the element, what is not a narrative at all.
"""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from carnet.kit.errors import BadRequest

XHTML = "{http://www.w3.org/1999/xhtml}"
ALLOWED = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "b",
        "big",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "u",
        "ul",
        "var",
    ]
)
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "longdesc"})


def check_narratives(body: Any, path: str) -> None:
    """Refuse the first `text.div` under `body` (a resource, its contained ones, a bundle's) that R4 refuses."""
    if isinstance(body, dict):
        text = body.get("text")
        if isinstance(text, dict) and isinstance(text.get("div"), str):
            problem = narrative_problem(text["div"])
            if problem is not None:
                where = f"{path}.text.div"
                raise BadRequest(f"{where}: {problem}", code="invalid-narrative", expression=where)
        for key, value in body.items():
            if key != "text":
                check_narratives(value, f"{path}.{key}")
    elif isinstance(body, list):
        for index, item in enumerate(body):
            check_narratives(item, f"{path}[{index}]")


def narrative_problem(div: str) -> str | None:
    """Why this is not an R4 narrative, or None."""
    try:
        root = fromstring(div, forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        return f"not well-formed XHTML ({str(exc)[:80]})."
    if root.tag != f"{XHTML}div":
        return 'the narrative is one <div xmlns="http://www.w3.org/1999/xhtml"> element.'
    has_content = False
    for element in root.iter():
        name = element.tag.removeprefix(XHTML) if isinstance(element.tag, str) else ""
        if not element.tag.startswith(XHTML) or name not in ALLOWED:
            return f"<{name or element.tag}> is not allowed in a narrative (basic XHTML formatting only)."
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return f"the event attribute {local} is not allowed in a narrative."
            if local in URL_ATTRIBUTES and value.strip().lower().startswith(("javascript:", "vbscript:")):
                return f"a script link ({local}) is not allowed in a narrative."
        has_content = has_content or name == "img" or _has_text(element)
    return None if has_content else "the narrative is empty: it must say something (txt-2)."


def _has_text(element: Element) -> bool:
    return bool((element.text or "").strip() or (element.tail or "").strip())
