"""The statistics read counters, never a record: no module of stats/ reaches the record's tables, keys or
ciphertext, and the counting is called by the services that change what it counts (not by an adapter)."""

from __future__ import annotations

from pathlib import Path

import carnet
from tests.access.test_one_gate import _imported_modules

SOURCE = Path(carnet.__file__).parent


def test_statistics_never_reach_patient_data() -> None:
    modules = sorted((SOURCE / "stats").rglob("*.py"))
    assert {p.name for p in modules} >= {"service.py", "repository.py", "counting.py", "models.py"}
    forbidden = ("carnet.records.models", "carnet.records.repository", "carnet.records.keys", "carnet.kit.crypto")
    for path in modules:
        for module in _imported_modules(path):
            assert not module.startswith(forbidden), (path.name, module)
            assert not module.startswith("carnet.access.gate"), (path.name, module)


def test_only_services_count() -> None:
    callers = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if "carnet.stats.counting" in _imported_modules(path) or "carnet.stats.repository" in _imported_modules(path)
    }
    assert callers == {
        "records/service.py",
        "records/documents.py",
        "access/service.py",
        "stats/counting.py",
        "stats/service.py",
    }
