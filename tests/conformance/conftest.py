"""The conformance tests reuse the FHIR tests' record and callers."""

from tests.fhir.conftest import doctor_token, opened

__all__ = ["doctor_token", "opened"]
