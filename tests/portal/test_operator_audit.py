"""The audit trail in the operator space: verification, the last seal, one professional's accesses as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.access.service import authorise
from carnet.audit.export import COLUMNS
from carnet.audit.seal import seal
from carnet.kit import clock
from carnet.kit.crypto import SealingKey, generate_master_key_text
from carnet.records.documents import list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from tests.http_fixtures import Person
from tests.portal.forms import field_error, post, unescaped
from tests.portal.operators import signed_in_operator
from tests.portal.patients import FIRST_DOCUMENT, ready_patient
from tests.portal.professionals import listed

Client = Callable[..., TestClient]


def test_the_trail_is_verified_when_asked_with_the_time_taken_and_the_last_seal(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "audit")  # the sign-in is in the trail: there is something to seal
    with runtime.unit_of_work() as ctx:
        assert seal(ctx.session, SealingKey.from_text(generate_master_key_text(), source="test")) is not None
    page = unescaped(client.get("/operator/audit").text)
    assert "Dernier scellement" in page and "Scellé le" in page and "Entrées couvertes par les scellements" in page
    assert "Chaînes vérifiées" not in page  # verifying is asked for, not done on every visit
    verified = post(client, "/operator/audit/verify", {}, token_from="/operator/audit")
    assert verified.status_code == 200
    text = unescaped(verified.text)
    assert "Les traces sont intactes." in text and "Chaînes vérifiées" in text and " secondes" in text
    assert "Non vérifiées : aucune clé publique de scellement n'est configurée" in text  # the tests' settings have none


def test_one_professionals_accesses_download_as_csv_and_never_name_a_document(
    client_for: Client, runtime: Runtime, person: Person
) -> None:
    doctor = listed(runtime, "Traceur")
    ready = ready_patient(runtime, person)
    with runtime.unit_of_work() as ctx:
        authorise(ctx, Actor.patient(ready.patient_id), ready.patient_id, doctor.rpps)
    with runtime.unit_of_work() as ctx:
        list_documents(ctx, doctor.actor(), ready.patient_id, DocumentQuery())
    client = client_for()
    signed_in_operator(client, runtime, "audit")
    today = clock.today()
    period = {"from": (today - timedelta(days=1)).isoformat(), "to": today.isoformat()}
    download = post(client, "/operator/audit/export", {"rpps": doctor.rpps, **period}, token_from="/operator/audit")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"] == (
        f'attachment; filename="accesses-{doctor.rpps}-{period["from"]}-{period["to"]}.csv"'
    )
    assert download.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(download.text)))
    assert tuple(rows[0]) == COLUMNS
    entries = [dict(zip(COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(e["patient_id"], e["action"], e["allowed"], e["profession"]) for e in entries] == [
        (str(ready.patient_id), "document.list", "yes", "10")
    ]
    assert FIRST_DOCUMENT not in download.text and "Claire" not in download.text


def test_a_bad_rpps_or_a_period_that_ends_before_it_starts_is_a_message_beside_the_field(
    client_for: Client, runtime: Runtime
) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "audit")
    bad_luhn = post(client, "/operator/audit/export", {"rpps": "10000000018", "from": "2026-01-01", "to": "2026-01-31"})
    assert bad_luhn.status_code == 422 and bad_luhn.headers["content-type"].startswith("text/html")
    assert unescaped(field_error(bad_luhn, "rpps")) == (
        "Un numéro RPPS a 11 chiffres, le dernier servant de clé de contrôle : vérifiez chaque chiffre."
    )
    assert 'value="10000000018"' in bad_luhn.text and 'value="2026-01-31"' in bad_luhn.text  # what was typed stays
    backward = post(
        client,
        "/operator/audit/export",
        {"rpps": "10000000017", "from": "2026-02-01", "to": "2026-01-31"},
        token_from="/operator/audit",
    )
    assert backward.status_code == 422
    assert field_error(backward, "to") == "La période se termine avant de commencer."
    english = client.post(
        "/operator/audit/export",
        data={"csrf_token": client.cookies["carnet_csrf"], "rpps": "", "from": "31/01/2026", "to": ""},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 422
    assert field_error(english, "rpps") == "Enter the professional&#39;s RPPS number."
    assert field_error(english, "from") == "Enter a date as day, month and year."
    assert field_error(english, "to") == "Enter the last day of the period."
