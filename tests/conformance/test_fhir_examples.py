"""Every official FHIR R4 example of a profile type (../shared/fhir-r4-examples) is read back as sent, apart from
the elements Carnet sets, or refused 4xx naming the element. `make conformance` runs it (not `make test`)."""

from __future__ import annotations

import pytest

from carnet.fhir.wire import loads
from tests.conformance.examples import (
    Tally,
    difference,
    exact,
    examples_folder,
    first_issue,
    pointed_at,
    post_as_written,
    profile_examples,
    without_server_elements,
)
from tests.fhir.conftest import Opened

pytestmark = pytest.mark.conformance


def test_every_profile_example_reads_back_as_sent_or_is_refused_naming_the_element(opened: Opened) -> None:
    folder = examples_folder()
    files = profile_examples(folder)
    assert files, f"No FHIR examples in {folder} (set CARNET_FHIR_EXAMPLES)"
    tally = Tally()
    for path in files:
        example = loads(path.read_bytes())  # numbers as written: 66.90 stays 66.90
        sent = pointed_at(example, opened.patient_id)
        answer = post_as_written(opened.doctor, example["resourceType"], sent)
        body = loads(answer.content)
        if answer.status_code >= 500:
            tally.add("5xx", path.name, first_issue(body)[1])
        elif answer.status_code >= 400:
            expression, message = first_issue(body)
            outcome = "refused with element" if expression else "refused without element"
            tally.add(outcome, path.name, f"{answer.status_code} {expression}: {message[:160]}")
        else:
            read = loads(opened.doctor.get(f"{example['resourceType']}/{body['id']}").content)
            expected = exact(without_server_elements({**sent, "id": "x"}))
            if exact(without_server_elements(body)) == expected and exact(read) == exact(body):
                tally.add("accepted equal", path.name, "")
            else:
                tally.add("changed", path.name, difference(expected, exact(without_server_elements(read))))
    print("\n" + tally.report())  # noqa: T201 (the counts are the target's output)
    assert tally.counts["changed"] == tally.counts["refused without element"] == tally.counts["5xx"] == 0, (
        tally.report()
    )
