"""Professionals as a patient reads them: a name from the directory and a profession in words, not codes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from carnet.context import Context
from carnet.identity.directory import names_of
from carnet.portal.messages import N_

# The national profession codes (kit/professions.py), in the words the catalogue translates.
PROFESSIONS = {
    "10": N_("doctor"),
    "21": N_("pharmacist"),
    "26": N_("hearing-aid specialist"),
    "28": N_("optician"),
    "40": N_("dentist"),
    "50": N_("midwife"),
    "60": N_("nurse"),
    "70": N_("physiotherapist"),
    "80": N_("podiatrist"),
    "81": N_("orthotist"),
    "82": N_("orthopaedic shoemaker"),
    "83": N_("orthopaedic fitter"),
    "84": N_("ocularist"),
    "85": N_("prosthetist"),
    "86": N_("medical laboratory technician"),
    "91": N_("speech therapist"),
    "92": N_("orthoptist"),
    "93": N_("psychologist"),
    "94": N_("occupational therapist"),
    "95": N_("dietitian"),
    "96": N_("psychomotor therapist"),
    "98": N_("radiographer"),
}
DOCTOR = "10"


@dataclass(frozen=True, slots=True)
class Person:
    """A professional to show: `name` is None when the directory does not know the number."""

    rpps: str
    name: str | None
    profession: str  # a source string of PROFESSIONS, translated by the template
    doctor: bool


UNKNOWN_PROFESSION = N_("health professional")


def people(ctx: Context, known: Iterable[tuple[str, str | None]]) -> dict[str, Person]:
    """The professionals named by these (RPPS, profession as recorded) pairs, with the directory's names."""
    pairs = list(known)
    listed = names_of(ctx.session, [rpps for rpps, _ in pairs])
    found: dict[str, Person] = {}
    for rpps, recorded in pairs:
        entry = listed.get(rpps)
        code = entry.profession if entry is not None else recorded
        words = PROFESSIONS.get(code or "", UNKNOWN_PROFESSION)
        found[rpps] = Person(rpps, entry.name if entry else None, words, code == DOCTOR)
    return found
