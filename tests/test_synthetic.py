from __future__ import annotations

import random

from carnet.kit.geography import departement_of_postcode
from carnet.kit.identifiers import parse_ins, parse_rpps
from carnet.records.codes import parse_format
from carnet.records.content import check_content
from carnet.synthetic import synthetic_document, synthetic_patient, synthetic_rpps


def test_synthetic_patients_are_valid_and_deterministic() -> None:
    seen = set()
    for index in range(500):
        ins, identity = synthetic_patient(1, index)
        parse_ins(ins)
        departement_of_postcode(identity.postcode)
        seen.add(ins)
        assert synthetic_patient(1, index) == (ins, identity)
    assert len(seen) == 500
    assert synthetic_patient(2, 0) != synthetic_patient(1, 0)


def test_synthetic_documents_pass_the_content_checks() -> None:
    rng = random.Random(3)
    formats = set()
    for _ in range(100):
        document = synthetic_document(rng, "Anne (Test)")
        fmt = parse_format(document.meta.format)
        check_content(document.content, fmt, max_bytes=1_000_000)
        formats.add(fmt)
        parse_rpps(synthetic_rpps(rng))
    assert len(formats) == 3
