"""The access matrix in the operator space: the table, a change with its reason, the history of versions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from carnet.access import gate
from carnet.access.service import change_matrix
from carnet.runtime import Runtime
from tests.portal.forms import field_error, post, unescaped
from tests.portal.operators import signed_in_operator

Client = Callable[..., TestClient]
# A cell no other test reads: an ocularist and administrative documents (class 95), refused as shipped.
PROFESSION, CLASS = "84", "95"


@pytest.fixture
def cell_as_shipped(runtime: Runtime) -> Iterator[None]:
    """The database is shared by the HTTP tests: the cell this file changes is put back as it was."""
    with runtime.unit_of_work() as ctx:
        before = gate.matrix(ctx).allows(PROFESSION, CLASS)
    yield
    with runtime.unit_of_work() as ctx:
        if gate.matrix(ctx).allows(PROFESSION, CLASS) != before:
            change_matrix(
                ctx,
                operator="tests",
                profession=PROFESSION,
                class_code=CLASS,
                allow=before,
                reason="put back after a test",
            )


def _version(runtime: Runtime) -> int:
    with runtime.unit_of_work() as ctx:
        return gate.matrix(ctx).version


def test_every_operator_reads_the_matrix_as_a_table_with_plain_names(client_for: Client, runtime: Runtime) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "statistics")
    page = client.get("/operator/matrix")
    assert page.status_code == 200
    text = unescaped(page.text)
    assert f"La version {_version(runtime)} est en vigueur." in text
    assert '<th scope="col">Imagerie médicale</th>' in text and '<th scope="row">Pharmacien</th>' in text
    pharmacist = text.split('<th scope="row">Pharmacien</th>', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="(yes|no)">', pharmacist)
    assert len(cells) == 12  # the eleven classes and advance directives
    assert cells[2] == "no" and cells[3] == "yes"  # a pharmacist reads prescriptions (42), not imaging (31)
    assert 'href="/operator/matrix/change"' not in text  # changing takes the accounts role
    english = client.get("/operator/matrix", headers={"Accept-Language": "en"}).text
    assert '<th scope="row">Pharmacist</th>' in english and '<th scope="col">Medical imaging</th>' in english


def test_a_change_without_a_reason_is_the_services_message_beside_the_field(
    client_for: Client, runtime: Runtime, cell_as_shipped: None
) -> None:
    client = client_for()
    signed_in_operator(client, runtime, "accounts")
    before = _version(runtime)
    form = {"profession": PROFESSION, "class": CLASS, "decision": "allow", "reason": "too short"}
    refused = post(client, "/operator/matrix/change", form)
    assert refused.status_code == 422
    assert unescaped(field_error(refused, "reason")) == (
        "Une modification de la matrice indique qui la fait et donne un motif (10 caractères au moins)."
    )
    assert "selected>Oculariste</option>" in refused.text and ">too short</textarea>" in refused.text
    assert 'id="decision-allow" name="decision" value="allow" checked' in refused.text
    nothing = post(client, "/operator/matrix/change", {"profession": "", "class": "", "decision": "", "reason": ""})
    assert nothing.status_code == 422
    assert field_error(nothing, "profession") == "Choisissez la profession."
    assert field_error(nothing, "decision") == "Indiquez si cette profession peut le lire."
    assert _version(runtime) == before


def test_a_change_with_its_reason_makes_a_new_version_shown_in_the_history(
    client_for: Client, runtime: Runtime, cell_as_shipped: None
) -> None:
    client = client_for()
    account = signed_in_operator(client, runtime, "accounts")
    before = _version(runtime)
    form = client.get(f"/operator/matrix/change?profession={PROFESSION}&class={CLASS}")
    assert form.status_code == 200 and 'value="84" selected' in form.text and 'value="95" selected' in form.text
    reason = "Décision du comité d'accès du 12 novembre"
    done = post(
        client,
        "/operator/matrix/change",
        {"profession": PROFESSION, "class": CLASS, "decision": "allow", "reason": reason},
    )
    assert (done.status_code, done.headers["location"]) == (303, f"/operator/matrix/history?changed={before + 1}")
    with runtime.unit_of_work() as ctx:
        assert gate.matrix(ctx).allows(PROFESSION, CLASS)  # in force at once
    history = unescaped(client.get(done.headers["location"]).text)
    assert f"La version {before + 1} de la matrice est en vigueur." in history
    newest = history.split('<ul class="history">', 1)[1].split('<p class="title">')[1]
    assert f"Version n° {before + 1}" in newest and f"par {account.login}" in newest
    assert "Oculariste : Document de gestion, désormais autorisé" in newest
    assert reason in newest
    again = post(
        client,
        "/operator/matrix/change",
        {"profession": PROFESSION, "class": CLASS, "decision": "allow", "reason": reason},
    )
    assert again.status_code == 422
    assert unescaped(field_error(again, "decision")) == "La matrice en vigueur le prévoit déjà : rien n'a été modifié."
