"""The profession x class matrix: shipped as data, loaded into the database, versioned, amended by operators."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

from carnet.kit.errors import Invalid
from carnet.kit.professions import PROFESSIONS

ADVANCE_DIRECTIVES = "DA"
ADVANCE_DIRECTIVES_TYPE = "42348-3"


@dataclass(frozen=True, slots=True)
class Matrix:
    version: int
    cells: frozenset[tuple[str, str]]

    def allows(self, profession: str, class_code: str) -> bool:
        return (profession, class_code) in self.cells

    def classes_for(self, profession: str) -> frozenset[str]:
        return frozenset(c for p, c in self.cells if p == profession and c != ADVANCE_DIRECTIVES)


def shipped_cells() -> frozenset[tuple[str, str]]:
    """The matrix file shipped with Carnet, checked against the known professions and classes."""
    from carnet.records.codes import DOCUMENT_CLASSES

    text = resources.files("carnet.access").joinpath("data/matrix.csv").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    cells = set()
    for row in csv.DictReader(lines):
        profession = row["profession"]
        if profession not in PROFESSIONS:
            raise Invalid(f"matrix.csv names an unknown profession {profession}")
        for class_code in row["classes"].split():
            if class_code not in DOCUMENT_CLASSES and class_code != ADVANCE_DIRECTIVES:
                raise Invalid(f"matrix.csv names an unknown class {class_code}")
            cells.add((profession, class_code))
    return frozenset(cells)
