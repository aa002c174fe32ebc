"""No operator page, and no file an operator downloads, shows any medical content: the titles and contents of
the documents seeded here, read by a professional so the trail is full of them, appear nowhere."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from carnet.access.actor import Actor
from carnet.access.service import authorise
from carnet.kit import clock
from carnet.records.documents import deposit_document, get_document, list_documents
from carnet.records.schemas import DocumentQuery
from carnet.runtime import Runtime
from tests.factories import PDF, SYSTEM, document_meta, open_test_record
from tests.portal.forms import post, unescaped
from tests.portal.operators import signed_in_operator
from tests.portal.professionals import listed

Client = Callable[..., TestClient]


def test_no_operator_page_or_download_shows_a_title_or_a_content(client_for: Client, runtime: Runtime) -> None:
    tag = uuid.uuid4().hex[:8]
    titles = [f"Compte rendu opératoire {tag}", f"Résultats VIH {tag}"]
    contents = [f"Tumeur maligne du sein {tag}", f"Séropositivité confirmée {tag}"]
    doctor = listed(runtime, "Lecteur")
    for title, content in zip(titles, contents, strict=True):
        with runtime.unit_of_work() as ctx:
            patient_id = open_test_record(ctx)
            deposit_document(ctx, SYSTEM, patient_id, document_meta(title=title), PDF)
            deposit_document(
                ctx, SYSTEM, patient_id, document_meta(title=content, format="text/plain"), content.encode()
            )
            authorise(ctx, Actor.patient(patient_id), patient_id, doctor.rpps)
        with runtime.unit_of_work() as ctx:
            for item in list_documents(ctx, doctor.actor(), patient_id, DocumentQuery()).items:
                get_document(ctx, doctor.actor(), patient_id, item.id)
    client = client_for()
    signed_in_operator(client, runtime)  # every role: every page
    today = clock.today()
    since = (today - timedelta(days=1)).isoformat()
    seen = [client.get(path) for path in _pages(since, today.isoformat())]
    seen.append(post(client, "/operator/audit/verify", {}, token_from="/operator/audit"))
    seen.append(post(client, "/operator/audit/export", {"rpps": doctor.rpps, "from": since, "to": today.isoformat()}))
    assert seen[-1].headers["content-type"].startswith("text/csv") and ",document.read," in seen[-1].text
    assert all(answer.status_code == 200 for answer in seen), [(a.url, a.status_code) for a in seen]
    for answer in seen:
        text = unescaped(answer.text)
        for words in (*titles, *contents, "Claire", "Dupont"):
            assert words not in text, f"{answer.url} shows {words!r}"


def _pages(since: str, until: str) -> list[str]:
    window = f"since={since}&until={until}"
    pages = [
        "/operator",
        "/operator/audit",
        "/operator/matrix",
        "/operator/matrix/history",
        "/operator/matrix/change",
        "/operator/statistics",
    ]
    for by in ("", "channel", "region", "departement"):
        pages.append(f"/operator/statistics/openings?period=day&by={by}&{window}")
        pages.append(f"/operator/statistics/openings.csv?period=day&by={by}&{window}")
    for figure in ("documents", "emergencies", "remuneration"):
        pages += [f"/operator/statistics/{figure}?{window}", f"/operator/statistics/{figure}.csv?{window}"]
    return pages
