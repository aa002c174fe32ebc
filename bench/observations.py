"""The profile's load bodies, apart from the locustfile (importing locust patches the process with gevent)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
_RNG = random.Random()


def body_weight(patient: str, rng: random.Random | None = None) -> dict[str, Any]:
    """A body weight (LOINC 29463-7) in kg (UCUM), measured on a past day, as a practice's software sends it."""
    rng = rng or _RNG
    day = datetime.now(UTC).date() - timedelta(days=rng.randrange(1, 3650))
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "vital-signs",
                    }
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": day.isoformat(),
        "valueQuantity": {"value": round(rng.uniform(45, 110), 1), "unit": "kg", "system": UCUM, "code": "kg"},
    }
