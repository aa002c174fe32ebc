"""Postcode -> département -> region, from the official code tables shipped in data/departements.csv."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from carnet.kit.errors import Invalid

_POSTCODE = re.compile(r"^\d{5}$")


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    name: str
    region: str
    region_name: str


@cache
def departements() -> dict[str, Departement]:
    text = resources.files("carnet.kit").joinpath("data/departements.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {
        row["departement"]: Departement(row["departement"], row["name"], row["region"], row["region_name"])
        for row in rows
    }


def departement_code_of_postcode(postcode: str) -> str:
    prefix = postcode[:2]
    if prefix == "20":
        # Corsica: 200xx and 201xx are Corse-du-Sud, 202xx to 206xx Haute-Corse.
        third = postcode[2]
        if third in "01":
            return "2A"
        if third in "23456":
            return "2B"
        return ""
    if prefix == "97":
        return postcode[:3]
    return prefix


def departement_of_postcode(raw: str) -> Departement:
    """The département (and so the region) a French postcode belongs to."""
    postcode = raw.strip().replace(" ", "")
    if not _POSTCODE.match(postcode):
        raise Invalid(f"A postcode has 5 digits; got '{raw.strip()}'.", code="invalid-postcode")
    found = departements().get(departement_code_of_postcode(postcode))
    if found is None:
        raise Invalid(
            f"The postcode {postcode} is not in a French département (metropolitan or overseas).",
            code="invalid-postcode",
        )
    return found
