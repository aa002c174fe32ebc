"""The printable summary of a record: its profile, its documents and its last reimbursements, as a PDF.

A Jinja2 template in the reader's language, laid out by WeasyPrint (it needs Pango, a system library: Debian's
libpango-1.0-0). WeasyPrint fetches nothing: the template carries its own style, and any other address it
would load (an image, a stylesheet) is refused, so nothing written in a record can make the server fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from babel.numbers import format_currency

from carnet.feeds.schemas import ReimbursementView
from carnet.kit.errors import Forbidden
from carnet.portal.labels import CLASSES, DOC_STATUSES
from carnet.portal.profile_display import Gettext, sections
from carnet.portal.web import LOCALES, Language, environment
from carnet.records.schemas import DocumentView, ProfileEntryView, RecordSummary

LAST_REIMBURSEMENTS = 30


def refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise Forbidden("The summary loads nothing from outside.")


def euros(cents: int, language: Language) -> str:
    return format_currency(cents / 100, "EUR", locale=LOCALES[language])


def summary_pdf(
    language: Language,
    _: Gettext,
    *,
    summary: RecordSummary,
    entries: Sequence[ProfileEntryView],
    documents: Sequence[DocumentView],
    reimbursements: Sequence[ReimbursementView],
    made_at: datetime,
) -> bytes:
    identity = summary.identity
    html = (
        environment(language)
        .get_template("patient/record/summary_pdf.html")
        .render(
            lang=language,
            name=" ".join(x for x in (identity.given_names, identity.family_name) if x) if identity else "",
            birth_date=identity.birth_date if identity else None,
            closed=summary.state != "open",
            sections=sections(entries, language, _),
            documents=documents,
            classes=CLASSES,
            doc_statuses=DOC_STATUSES,
            reimbursements=[
                (line, euros(line.amount_cents, language), euros(line.reimbursed_cents, language))
                for line in reimbursements[:LAST_REIMBURSEMENTS]
            ],
            made_at=made_at,
        )
    )
    from weasyprint import HTML  # loaded on the first summary asked: its fonts and Pango cost a second at startup

    pdf: bytes = HTML(string=html, url_fetcher=refuse_fetch).write_pdf()
    return pdf
