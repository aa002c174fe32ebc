"""Population by département, to draw synthetic patients where people live (data/populations.csv).

Source: INSEE, populations légales 2021 (in force since 1 January 2024), rounded to the thousand and
approximate: good enough to weigh a demo, never used for a published figure.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources


@cache
def populations() -> dict[str, int]:
    text = resources.files("carnet.stats").joinpath("data/populations.csv").read_text(encoding="utf-8")
    return {row["departement"]: int(row["population"]) for row in csv.DictReader(text.splitlines())}
