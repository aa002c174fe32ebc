"""No code outside access/ decides access: the rules are imported by the gate alone, and every service that
touches patient data goes through `load_record` (which asks the gate) or the gate itself."""

from __future__ import annotations

import ast
from pathlib import Path

import carnet

SOURCE = Path(carnet.__file__).parent
RULES = {"decide", "decide_unscoped", "list_filter", "_professional", "_patient"}


def imported_names(path: Path) -> set[tuple[str, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_only_the_gate_applies_the_rules() -> None:
    users = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        for module, name in imported_names(path)
        if module == "carnet.access.policy" and name in RULES
    }
    assert users == {"access/gate.py"}


def test_every_service_touching_patient_data_asks_the_gate() -> None:
    services = [
        "records/service.py",
        "records/documents.py",
        "records/profile.py",
        "access/service.py",
        "identity/cards.py",
        "identity/opening.py",
        "identity/visits.py",
    ]
    for name in services:
        names = imported_names(SOURCE / name)
        asks = {("carnet.access", "gate"), ("carnet.records.service", "load_record")}
        assert asks & names, name
    adapters = [p for p in SOURCE.rglob("*.py") if p.parent.name in ("fhir", "portal")] + [SOURCE / "cli.py"]
    for path in adapters:
        assert not any(module == "carnet.access.policy" for module, _ in imported_names(path)), path


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {f"{module}.{name}" for module, name in imported_names(path)}
    return modules


def test_the_portal_reaches_patient_data_only_through_the_services() -> None:
    """The portal is an adapter: no rule, no SQL, no table, no repository; the services ask the gate for it."""
    portal = sorted((SOURCE / "portal").rglob("*.py"))
    assert {p.name for p in portal} >= {"__init__.py", "web.py", "home.py", "patient.py"}
    forbidden = ("sqlalchemy", "psycopg", "carnet.kit.db", "carnet.access.policy", "carnet.access.gate")
    for path in portal:
        for module in _imported_modules(path):
            assert not module.startswith(forbidden), (path.name, module)
            assert ".repository" not in module and ".models" not in module, (path.name, module)
            assert module not in {"carnet.access.gate", "carnet.records.service.load_record"}, (path.name, module)


def test_only_the_card_services_say_a_card_was_shown() -> None:
    """What takes a holder's INS as proven (the card's signature checked by the caller) is called by identity.cards
    and identity.visits alone: anywhere else, an INS typed in would pass for a card shown."""
    trusting = {"holder_ins", "holder_record", "authorise_holder", "open_holder_record", "reissue_for_holder"}
    callers = set()
    for path in SOURCE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        used |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) for alias in node.names}
        if used & trusting:
            callers.add(path.relative_to(SOURCE).as_posix())
    assert callers == {"identity/visits.py"}
    passes = {
        path.relative_to(SOURCE).as_posix()
        for path in SOURCE.rglob("*.py")
        if "card_presented=True" in path.read_text(encoding="utf-8")
    }
    assert passes == {"identity/cards.py", "identity/visits.py"}
