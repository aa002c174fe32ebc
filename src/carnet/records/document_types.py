"""What Carnet derives from a DocumentReference it keeps as written (pure).

A document's metadata is the FHIR resource received (ARCHITECTURE.md, Data). The columns beside it, for the
access rules, lists and search, come from `derive_document` and nowhere else: class (the category coding of
JDV_J57), type (the LOINC coding), title (description, else the attachment's title), act date (the first day
of context.period.start, to the precision written), format (the attachment's contentType), creation time,
docStatus, the professionals named as authors by RPPS (`8` + RPPS or the bare 11 digits, directly or through
a contained Practitioner / PractitionerRole), the custodian organisation, the master identifier, and the
visibility Carnet's labels ask for. A refusal names the FHIR element (`expression`), never a Carnet field.

Security labels (documented in docs/fhir-documents.md):
- meta.security of system urn:oid:1.2.250.1.213.1.1.4.13 (the DMP's codes) sets Carnet's visibility flags:
  MASQUE_PS masked, INVISIBLE_PATIENT hidden from the patient until the extension hidden-from-patient-until,
  INVISIBLE_REPRESENTANTS_LEGAUX hidden from legal representatives;
- the v3-Confidentiality codes U, L, M, N (securityLabel or meta.security) ask no more than the access rules
  give every document: kept as written;
- R and V ask for a restriction the author cannot set in Carnet (every professional the patient authorised
  whose profession may read the class reads it), and any other label is unknown: refused, never ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from carnet.fhir.codes import (
    CARNET,
    CLASS_SYSTEM,
    CONFIDENTIALITY_SYSTEM,
    EXT_HIDDEN_UNTIL,
    FINESS_SYSTEM,
    INVISIBLE_TO_PATIENT,
    INVISIBLE_TO_REPRESENTATIVES,
    LOINC,
    MASKED,
    RPPS_SYSTEM,
)
from carnet.kit.errors import Invalid
from carnet.records.codes import parse_class, parse_type
from carnet.records.profile_types import rpps_of

V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
NO_MORE_THAN_THE_RULES = ("U", "L", "M", "N")
RESTRICTED = ("R", "V")
DMP_LABELS = (MASKED, INVISIBLE_TO_PATIENT, INVISIBLE_TO_REPRESENTATIVES)
EXT_DEPOSITOR = f"{CARNET}/StructureDefinition/depositor"
FRENCH_TIME = ZoneInfo("Europe/Paris")
MAX_TITLE = 300
MAX_MASTER_IDENTIFIER = 128
DR = "DocumentReference"


@dataclass(frozen=True, slots=True)
class Visibility:
    """Carnet's visibility flags (SPEC §4.5) as the DMP's labels of a resource ask for them."""

    masked: bool = False
    hidden_from_patient_until: datetime | None = None
    hidden_from_representatives: bool = False

    @property
    def any(self) -> bool:
        return self.masked or self.hidden_from_patient_until is not None or self.hidden_from_representatives


@dataclass(frozen=True, slots=True)
class DocumentFacts:
    """The columns beside a stored DocumentReference."""

    class_code: str
    type_code: str
    title: str
    act_date: date
    format: str
    created_at: datetime | None
    doc_status: str | None
    status: str  # the resource's status as written (current, superseded, entered-in-error)
    authors_rpps: tuple[str, ...]  # every professional named as an author by RPPS, in order
    author_name: str | None  # how the first of them is named
    organisation: str | None
    master_identifier: str | None
    visibility: Visibility


def derive_document(resource: Mapping[str, Any]) -> DocumentFacts:
    """The derived columns of a DocumentReference already validated against the FHIR models."""
    attachment = _attachment(resource)
    rpps, name = _authors(resource)
    return DocumentFacts(
        class_code=_class(resource),
        type_code=_type(resource),
        title=_title(resource, attachment),
        act_date=_act_date(resource),
        format=str(attachment.get("contentType") or ""),
        created_at=instant_of(attachment.get("creation")),
        doc_status=_text(resource.get("docStatus")),
        status=str(resource.get("status")),
        authors_rpps=rpps,
        author_name=name,
        organisation=_organisation(resource.get("custodian")),
        master_identifier=_master_identifier(resource.get("masterIdentifier")),
        visibility=visibility_of(resource),
    )


def _text(value: Any) -> str | None:
    return str(value) if value is not None else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _attachment(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    contents = _list(resource.get("content"))
    if len(contents) != 1:
        raise Invalid(
            "A DocumentReference carries one content (one attachment): Carnet keeps one file per document.",
            code="invalid-content",
            expression=f"{DR}.content",
        )
    return _map(_map(contents[0]).get("attachment"))


def _codings(concept: Any, where: str, system: str) -> list[tuple[str, str]]:
    """(FHIRPath of the code, code) of the codings of a system in a CodeableConcept."""
    return [
        (f"{where}.coding[{j}].code", str(coding["code"]))
        for j, coding in enumerate(_list(_map(concept).get("coding")))
        if isinstance(coding, Mapping) and coding.get("system") == system and coding.get("code")
    ]


def _checked(parse: Any, code: str, where: str) -> str:
    try:
        return str(parse(code))
    except Invalid as exc:
        raise Invalid(exc.message, code=exc.code, expression=where) from None


def _class(resource: Mapping[str, Any]) -> str:
    found = [
        c
        for i, cat in enumerate(_list(resource.get("category")))
        for c in _codings(cat, f"{DR}.category[{i}]", CLASS_SYSTEM)
    ]
    if len(found) != 1:
        raise Invalid(
            f"A DocumentReference names its class in one category coding of system {CLASS_SYSTEM} (JDV_J57); "
            "other categories are kept beside it.",
            code="missing-code",
            expression=f"{DR}.category",
        )
    where, code = found[0]
    return _checked(parse_class, code, where)


def _type(resource: Mapping[str, Any]) -> str:
    found = _codings(resource.get("type"), f"{DR}.type", LOINC)
    if not found:
        raise Invalid(
            f"A DocumentReference names its type with a coding of system {LOINC}; other codings are kept beside it.",
            code="missing-code",
            expression=f"{DR}.type",
        )
    where, code = found[0]
    return _checked(parse_type, code, where)


def _title(resource: Mapping[str, Any], attachment: Mapping[str, Any]) -> str:
    for where, value in (
        (f"{DR}.description", resource.get("description")),
        (f"{DR}.content[0].attachment.title", attachment.get("title")),
    ):
        if isinstance(value, str) and value.strip():
            if len(value.strip()) > MAX_TITLE:
                raise Invalid(
                    f"A document's title has at most {MAX_TITLE} characters.", code="invalid-title", expression=where
                )
            return value.strip()
    raise Invalid(
        "A DocumentReference needs a description (or content[0].attachment.title): the title lists show.",
        code="incomplete-document",
        expression=f"{DR}.description",
    )


def first_day(value: Any) -> date | None:
    """The first day a FHIR date or dateTime covers, as written: `2004` is 2004-01-01, `2004-12` 2004-12-01."""
    text = str(value)
    try:
        return date(int(text[:4]), int(text[5:7] or "01"), int(text[8:10] or "01"))
    except ValueError:
        return None


def _act_date(resource: Mapping[str, Any]) -> date:
    start = _map(_map(_map(resource.get("context")).get("period"))).get("start")
    day = first_day(start) if start is not None else None
    if day is None:
        raise Invalid(
            "A DocumentReference needs context.period.start, the date of the act.",
            code="incomplete-document",
            expression=f"{DR}.context.period.start",
        )
    return day


def instant_of(value: Any) -> datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime; without a zone it is French local time."""
    if value is None:
        return None
    text = str(value)
    try:
        if len(text) <= 10:
            day = first_day(text)
            return datetime.combine(day, time(), FRENCH_TIME) if day else None
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=FRENCH_TIME)


def _contained(resource: Mapping[str, Any], reference: str) -> tuple[int, Mapping[str, Any]] | None:
    for index, item in enumerate(_list(resource.get("contained"))):
        if isinstance(item, Mapping) and f"#{item.get('id')}" == reference:
            return index, item
    return None


def _rpps_in(identifiers: Sequence[Any], where: str) -> str | None:
    for index, identifier in enumerate(identifiers):
        if isinstance(identifier, Mapping) and identifier.get("system") == RPPS_SYSTEM:
            return rpps_of(str(identifier.get("value", "")), f"{where}[{index}].value")
    return None


def _person_name(person: Mapping[str, Any]) -> str | None:
    for name in _list(person.get("name")):
        if isinstance(name, Mapping):
            text = name.get("text") or " ".join([*_list(name.get("given")), str(name.get("family") or "")]).strip()
            if text:
                return str(text)
    return None


def _authors(resource: Mapping[str, Any]) -> tuple[tuple[str, ...], str | None]:
    """The RPPS of each professional an author names (its identifier, or a contained resource's), and a name."""
    found: list[str] = []
    name: str | None = None
    for index, author in enumerate(_list(resource.get("author"))):
        author = _map(author)
        where = f"{DR}.author[{index}]"
        rpps, display = None, author.get("display")
        identifier = _map(author.get("identifier"))
        if identifier.get("system") == RPPS_SYSTEM:
            rpps = rpps_of(str(identifier.get("value", "")), f"{where}.identifier.value")
        elif isinstance(author.get("reference"), str) and (local := _contained(resource, author["reference"])):
            position, item = local
            rpps = _rpps_in(_list(item.get("identifier")), f"{DR}.contained[{position}].identifier")
            display = display or _person_name(item)
        if rpps is not None:
            if not found:
                name = str(display) if display else None
            found.append(rpps)
    return tuple(found), name


def _organisation(custodian: Any) -> str | None:
    identifier = _map(_map(custodian).get("identifier"))
    if identifier.get("system") == FINESS_SYSTEM and identifier.get("value"):
        return str(identifier["value"])[:64]
    display = _map(custodian).get("display")
    return str(display)[:64] if display else None


def _master_identifier(identifier: Any) -> str | None:
    value = _map(identifier).get("value")
    if value is None:
        return None
    if len(str(value)) > MAX_MASTER_IDENTIFIER:
        raise Invalid(
            f"Carnet recognises a resubmission by masterIdentifier.value: at most {MAX_MASTER_IDENTIFIER} characters.",
            code="invalid-identifier",
            expression=f"{DR}.masterIdentifier.value",
        )
    return str(value)


RESTRICTION_REFUSED = (
    "Carnet cannot honour a restricted or very restricted label set by a document's writer: every professional the "
    "patient authorised whose profession may read the document's class reads it. Carnet's own labels "
    f"({CONFIDENTIALITY_SYSTEM}, in meta.security) keep a document from the patient ({INVISIBLE_TO_PATIENT}, "
    f"with its delay) or from legal representatives ({INVISIBLE_TO_REPRESENTATIVES}); only the patient masks "
    f"one from professionals ({MASKED})"
)


def _refuse_label(system: Any, code: Any, where: str) -> None:
    if system == V3_CONFIDENTIALITY and code in NO_MORE_THAN_THE_RULES:
        return
    if system == V3_CONFIDENTIALITY and code in RESTRICTED:
        why = RESTRICTION_REFUSED
    elif system == CONFIDENTIALITY_SYSTEM and code in DMP_LABELS:
        why = "Carnet reads its visibility labels in meta.security (where it writes them), not in securityLabel"
    else:
        why = (
            f"Carnet does not know this label (it keeps {V3_CONFIDENTIALITY} {', '.join(NO_MORE_THAN_THE_RULES)} as "
            f"written and acts on {CONFIDENTIALITY_SYSTEM} {', '.join(DMP_LABELS)} in meta.security)"
        )
    raise Invalid(f"{where} ({system}|{code}) cannot be honoured: {why}.", code="invalid-label", expression=where)


def visibility_of(resource: Mapping[str, Any]) -> Visibility:
    """The flags the resource's labels ask for; a label Carnet cannot honour is refused, never ignored."""
    for index, label in enumerate(_list(resource.get("securityLabel"))):
        codings = _list(_map(label).get("coding"))
        if not codings:
            raise Invalid(
                "A security label names its code (coding).",
                code="invalid-label",
                expression=f"{DR}.securityLabel[{index}]",
            )
        for j, coding in enumerate(codings):
            coding = _map(coding)
            _refuse_label(coding.get("system"), coding.get("code"), f"{DR}.securityLabel[{index}].coding[{j}]")
    codes: set[str] = set()
    for index, coding in enumerate(_list(_map(resource.get("meta")).get("security"))):
        coding = _map(coding)
        if coding.get("system") == CONFIDENTIALITY_SYSTEM and coding.get("code") in DMP_LABELS:
            codes.add(str(coding["code"]))
        else:
            _refuse_label(coding.get("system"), coding.get("code"), f"{DR}.meta.security[{index}]")
    until, where = None, f"{DR}.meta.security"
    for index, extension in enumerate(_list(resource.get("extension"))):
        if _map(extension).get("url") == EXT_HIDDEN_UNTIL:
            where = f"{DR}.extension[{index}]"
            until = instant_of(_map(extension).get("valueDateTime"))
            if until is None or len(str(_map(extension).get("valueDateTime"))) <= 10:
                raise Invalid(
                    f"The extension {EXT_HIDDEN_UNTIL} carries valueDateTime, a time with its zone.",
                    code="invalid-label",
                    expression=f"{where}.valueDateTime",
                )
    if (INVISIBLE_TO_PATIENT in codes) != (until is not None):
        raise Invalid(
            f"{INVISIBLE_TO_PATIENT} goes with the extension {EXT_HIDDEN_UNTIL} (until when), and only with it.",
            code="invalid-label",
            expression=where,
        )
    return Visibility(
        masked=MASKED in codes,
        hidden_from_patient_until=until,
        hidden_from_representatives=INVISIBLE_TO_REPRESENTATIVES in codes,
    )
