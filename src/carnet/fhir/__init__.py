"""The FHIR R4 facade (SPEC §7): resources mapped from and to the domain services; no rule and no SQL here."""
