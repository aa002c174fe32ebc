"""Health professions by their national code (nomenclature TRE_G15 "Profession de santé")."""

from __future__ import annotations

from carnet.kit.errors import Invalid

PROFESSIONS: dict[str, str] = {
    "10": "Médecin",
    "21": "Pharmacien",
    "26": "Audioprothésiste",
    "28": "Opticien-lunetier",
    "40": "Chirurgien-dentiste",
    "50": "Sage-femme",
    "60": "Infirmier",
    "70": "Masseur-kinésithérapeute",
    "80": "Pédicure-podologue",
    "81": "Orthoprothésiste",
    "82": "Podo-orthésiste",
    "83": "Orthopédiste-orthésiste",
    "84": "Oculariste",
    "85": "Épithésiste",
    "86": "Technicien de laboratoire médical",
    "91": "Orthophoniste",
    "92": "Orthoptiste",
    "93": "Psychologue",
    "94": "Ergothérapeute",
    "95": "Diététicien",
    "96": "Psychomotricien",
    "98": "Manipulateur ERM",
}


def parse_profession(raw: str) -> str:
    code = raw.strip()
    if code not in PROFESSIONS:
        raise Invalid(
            f"Unknown profession code '{code}'; known codes: {', '.join(sorted(PROFESSIONS))}.",
            code="invalid-profession",
        )
    return code
