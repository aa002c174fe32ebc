"""How a profile entry reads for its patient: the FHIR resource as written, put into plain words (pure).

Nothing is rebuilt or corrected: the words are the resource's own text (code.text, display, notes), the
statuses its own (an unconfirmed or refuted allergy, a vaccination not done and why, a preliminary result),
the quantities in the unit written and the dates to the precision written (`2004` reads as 2004). The strings
that come from a resource are returned as text: the templates escape them, and a narrative is never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from babel.dates import format_date

from carnet.fhir.wire import WrittenNumber
from carnet.kit.professions import PROFESSIONS
from carnet.portal.messages import N_
from carnet.portal.profile_forms import PROFESSION_CHOICES
from carnet.portal.web import LOCALES, Language, format_day
from carnet.records.profile_legacy import EXT_FIELD, PROFESSION_SYSTEM
from carnet.records.schemas import ProfileEntryView

Gettext = Callable[[str], str]
SNOMED = "http://snomed.info/sct"
# SNOMED CT's "no known allergy" findings: an entry saying the patient has none, not an allergy to something.
NO_KNOWN_ALLERGY = frozenset({"716186003", "409137002", "428607008", "429625007", "428197003"})


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    heading: str
    kinds: tuple[str, ...]


# SPEC §2's kinds, in the order a patient reads them.
SECTIONS = (
    Section("allergies", N_("Allergies and intolerances"), ("allergy",)),
    Section("history", N_("Medical history"), ("medical_history", "surgical_history", "family_history")),
    Section("treatments", N_("Treatments"), ("treatment", "prescription", "dispensation")),
    Section("vaccinations", N_("Vaccinations"), ("vaccination",)),
    Section("blood-group", N_("Blood group"), ("blood_group",)),
    Section("measurements", N_("Measurements"), ("weight", "height", "blood_pressure", "observation")),
    Section("directives", N_("Advance directives"), ("advance_directive",)),
    Section("organ-donation", N_("Organ donation"), ("organ_donation",)),
    Section("contacts", N_("People to contact in an emergency"), ("emergency_contact",)),
    Section("professionals", N_("Your professionals"), ("care_team",)),
)

# A status is said when it changes what the entry means; the plain ones (active, final, completed) are not.
STATUS_LABELS = {
    "inactive": N_("No longer active"),
    "resolved": N_("Resolved"),
    "remission": N_("In remission"),
    "recurrence": N_("Came back"),
    "relapse": N_("Came back"),
    "unconfirmed": N_("Not confirmed"),
    "provisional": N_("Not confirmed"),
    "differential": N_("Not confirmed"),
    "refuted": N_("Ruled out"),
    "preliminary": N_("Preliminary"),
    "amended": N_("Amended"),
    "corrected": N_("Corrected"),
    "cancelled": N_("Cancelled"),
    "registered": N_("Awaiting the result"),
    "stopped": N_("Stopped"),
    "not-taken": N_("Not taken"),
    "on-hold": N_("On hold"),
    "intended": N_("Planned"),
    "draft": N_("Draft"),
    "not-done": N_("Not done"),
    "in-progress": N_("In progress"),
    "unknown": N_("Status unknown"),
}
NOT_GIVEN = N_("Not given")
KIND_NAMES = {
    "surgical_history": N_("Operation"),
    "family_history": N_("In the family"),
    "prescription": N_("Prescribed"),
    "dispensation": N_("Dispensed at a pharmacy"),
}


@dataclass(frozen=True, slots=True)
class Item:
    """One entry as the patient reads it."""

    entry_id: str
    kind: str
    title: str
    lines: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    by_patient: bool = False


def text_of(concept: Any) -> str:
    """A CodeableConcept's words as written: its text, else its codings' displays, else their codes."""
    if not isinstance(concept, Mapping):
        return ""
    if isinstance(concept.get("text"), str) and concept["text"].strip():
        return str(concept["text"])
    codings = [c for c in concept.get("coding") or [] if isinstance(c, Mapping)]
    shown = [str(c.get("display") or c.get("code") or "") for c in codings]
    return ", ".join(s for s in shown if s)


def number(value: Any, language: Language) -> str:
    """A number as written, its decimal point as the reader's language writes it (66.90 stays 66.90)."""
    text = value.text if isinstance(value, WrittenNumber) else str(value)
    return text.replace(".", ",") if language == "fr" and "e" not in text.lower() else text


def quantity(value: Any, language: Language) -> str:
    if not isinstance(value, Mapping) or value.get("value") is None:
        return ""
    unit = value.get("unit") or value.get("code") or ""
    return f"{value.get('comparator', '')}{number(value['value'], language)} {unit}".strip()


def when(value: Any, language: Language) -> str:
    """A FHIR date or dateTime to the precision written: a year, a month and year, or a day."""
    text = str(value or "")
    try:
        if len(text) == 4:
            return text
        if len(text) == 7:
            return format_date(date(int(text[:4]), int(text[5:7]), 1), "MMMM y", locale=LOCALES[language])
        return format_day(date(int(text[:4]), int(text[5:7]), int(text[8:10])), language)
    except ValueError:
        return text


def _labels(entry: ProfileEntryView, _: Gettext) -> list[str]:
    if entry.resource.get("resourceType") == "Immunization" and entry.resource_status == "not-done":
        return [_(NOT_GIVEN)]
    codes = [c for c in (entry.resource_status, entry.verification_status) if c in STATUS_LABELS]
    return list(dict.fromkeys(_(STATUS_LABELS[c]) for c in codes))


def _notes(resource: Mapping[str, Any]) -> list[str]:
    return [str(n["text"]) for n in resource.get("note") or [] if isinstance(n, Mapping) and n.get("text")]


def _field(resource: Mapping[str, Any], name: str) -> str:
    for extension in resource.get("extension") or []:
        if isinstance(extension, Mapping) and extension.get("url") == f"{EXT_FIELD}{name}":
            return str(extension.get("valueString") or "")
    return ""


def _allergy(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    codes = {str(c.get("code")) for c in (r.get("code") or {}).get("coding") or [] if c.get("system") == SNOMED}
    written = text_of(r.get("code"))
    labels = [_("Intolerance")] if r.get("type") == "intolerance" else []
    if r.get("criticality") == "high":
        labels.append(_("High risk"))
    lines = []
    for reaction in r.get("reaction") or []:
        said = ", ".join(text_of(m) for m in reaction.get("manifestation") or [])
        if said:
            lines.append(_("Reaction: %(reaction)s") % {"reaction": said})
    if r.get("onsetDateTime"):
        lines.append(_("Since %(when)s") % {"when": when(r["onsetDateTime"], lang)})
    if codes & NO_KNOWN_ALLERGY:
        title = _("No known allergy")
        if written and written != title:
            lines.insert(0, written)
        return title, lines, labels
    return written or _("Allergy"), lines, labels


def _dated(r: Mapping[str, Any], lang: Language, _: Gettext, *paths: str) -> list[str]:
    for path in paths:
        value: Any = r
        for part in path.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value:
            return [_("Date: %(when)s") % {"when": when(value, lang)}]
    return []


def _observation(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    shown = quantity(r.get("valueQuantity"), lang) or text_of(r.get("valueCodeableConcept"))
    shown = shown or str(r.get("valueString") or "")
    parts = [
        f"{text_of(c.get('code'))} {quantity(c.get('valueQuantity'), lang)}".strip()
        for c in r.get("component") or []
        if isinstance(c, Mapping) and c.get("valueQuantity")
    ]
    lines = [shown] if shown else []
    if len(parts) == 2 and all(c.get("valueQuantity") for c in r["component"]):  # a pressure: 120/80 mm[Hg]
        first, second = (c["valueQuantity"] for c in r["component"])
        lines = [f"{number(first['value'], lang)}/{quantity(second, lang)}"]
    elif parts:
        lines += parts
    if r.get("dataAbsentReason"):
        lines.append(_("No result: %(reason)s") % {"reason": text_of(r["dataAbsentReason"])})
    lines += _dated(r, lang, _, "effectiveDateTime", "effectivePeriod.start", "issued")
    return text_of(r.get("code")) or _("Measurement"), lines, []


MEASURED = {
    "weight": N_("Weight"),
    "height": N_("Height"),
    "blood_pressure": N_("Blood pressure"),
    "blood_group": N_("Blood group"),
}


def _medication(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    title = text_of(r.get("medicationCodeableConcept")) or str((r.get("medicationReference") or {}).get("display", ""))
    dosages = [*(r.get("dosage") or []), *(r.get("dosageInstruction") or [])]
    lines = [str(d["text"]) for d in dosages if isinstance(d, Mapping) and d.get("text")]
    period = r.get("effectivePeriod") or {}
    if period.get("start"):
        lines.append(_("Since %(when)s") % {"when": when(period["start"], lang)})
    if period.get("end"):
        lines.append(_("Until %(when)s") % {"when": when(period["end"], lang)})
    lines += _dated(r, lang, _, "effectiveDateTime", "authoredOn", "whenHandedOver")
    if r.get("statusReason"):
        reasons = r["statusReason"] if isinstance(r["statusReason"], list) else [r["statusReason"]]
        lines += [_("Reason: %(reason)s") % {"reason": text_of(x)} for x in reasons if text_of(x)]
    return title or _("Treatment"), lines, []


def _immunization(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    """A vaccine not given says so (status not-done) and why; the status label is the vaccine's own."""
    lines = _dated(r, lang, _, "occurrenceDateTime", "occurrenceString")
    if r.get("status") == "not-done" and r.get("statusReason"):
        lines.append(_("Reason: %(reason)s") % {"reason": text_of(r["statusReason"])})
    for applied in r.get("protocolApplied") or []:
        if applied.get("doseNumberPositiveInt"):
            lines.append(_("Dose %(dose)s") % {"dose": applied["doseNumberPositiveInt"]})
    if r.get("lotNumber"):
        lines.append(_("Batch: %(lot)s") % {"lot": r["lotNumber"]})
    return text_of(r.get("vaccineCode")) or _("A vaccination"), lines, []


def _person(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    names = [n for n in r.get("name") or [] if isinstance(n, Mapping)]
    name = next((str(n.get("text") or " ".join([*n.get("given", []), n.get("family", "")]).strip()) for n in names), "")
    lines = [", ".join(text_of(x) for x in r.get("relationship") or [] if text_of(x))]
    lines += [str(t["value"]) for t in r.get("telecom") or [] if isinstance(t, Mapping) and t.get("value")]
    labels = [_("No longer to contact")] if r.get("active") is False else []
    return name or _("Someone to contact"), [line for line in lines if line], labels


def _basic(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    kind = next((str(c.get("code")) for c in (r.get("code") or {}).get("coding") or []), "")
    if kind == "organ_donation":
        choice = _field(r, "choice")
        title = {
            "accepts": _("You accept to donate your organs"),
            "refuses": _("You refuse to donate your organs"),
        }.get(choice, choice)
        note = _field(r, "note")
        return title or _("Organ donation"), [note] if note else [], []
    lines = [x for x in (_field(r, "text"),) if x]
    if _field(r, "trusted_person"):
        lines.append(_("Trusted person: %(name)s") % {"name": _field(r, "trusted_person")})
    written = _field(r, "written_on") or r.get("created")
    if written:
        lines.append(_("Written on %(when)s") % {"when": when(written, lang)})
    return _("Your advance directives"), lines, []


def _role(concept: Any, _: Gettext) -> str:
    """A care team member's role: its text, else the profession its national code names, never the bare code."""
    if isinstance(concept, Mapping) and not concept.get("text"):
        for coding in concept.get("coding") or []:
            if isinstance(coding, Mapping) and coding.get("system") == PROFESSION_SYSTEM:
                code = str(coding.get("code"))
                named = dict(PROFESSION_CHOICES).get(code)
                return _(named) if named else PROFESSIONS.get(code, text_of(concept))
    return text_of(concept)


def _other(r: Mapping[str, Any], lang: Language, _: Gettext) -> tuple[str, list[str], list[str]]:
    """Conditions, procedures, family history, care teams: their code's words, dates and notes."""
    title = text_of(r.get("code")) or text_of(r.get("relationship"))
    lines = [text_of(c.get("code")) for c in r.get("condition") or [] if isinstance(c, Mapping)]
    for member in r.get("participant") or []:
        who = str((member.get("member") or {}).get("display") or "")
        role = ", ".join(_role(x, _) for x in member.get("role") or [])
        title = title or who
        lines.append(", ".join(x for x in (who, role) if x and x != title))
    if r.get("abatementDateTime"):
        lines.append(_("Until %(when)s") % {"when": when(r["abatementDateTime"], lang)})
    if r.get("onsetDateTime"):
        lines.append(_("Since %(when)s") % {"when": when(r["onsetDateTime"], lang)})
    lines += _dated(r, lang, _, "performedDateTime", "performedPeriod.start", "date")
    return title or _("Entry"), [line for line in lines if line], []


DESCRIBE = {
    "AllergyIntolerance": _allergy,
    "Observation": _observation,
    "MedicationStatement": _medication,
    "MedicationRequest": _medication,
    "MedicationDispense": _medication,
    "Immunization": _immunization,
    "RelatedPerson": _person,
    "Basic": _basic,
}


def describe(entry: ProfileEntryView, language: Language, _: Gettext) -> Item:
    resource = entry.resource
    title, lines, labels = DESCRIBE.get(str(resource.get("resourceType")), _other)(resource, language, _)
    if entry.kind in MEASURED:  # a view by LOINC code: named in the reader's words, its own text kept beside
        title, own = _(MEASURED[entry.kind]), (resource.get("code") or {}).get("text")
        lines = [*lines, own] if isinstance(own, str) and own.strip() and own != title else lines
    if entry.kind in KIND_NAMES:
        labels.insert(0, _(KIND_NAMES[entry.kind]))
    return Item(
        entry_id=str(entry.id),
        kind=entry.kind,
        title=title,
        lines=[*lines, *_notes(resource)],
        labels=[*_labels(entry, _), *labels],
        by_patient=entry.author_kind == "patient",
    )


def sections(entries: Sequence[ProfileEntryView], language: Language, _: Gettext) -> list[tuple[Section, list[Item]]]:
    """Every section, each with its entries in the service's order (an empty one says so on the page)."""
    return [(s, [describe(e, language, _) for e in entries if e.kind in s.kinds]) for s in SECTIONS]
