"""The activation letter a counter or a desk prints for the visitor: to whom, the code, until when, how to activate.

Laid out by WeasyPrint from a template in the reader's language, as the record's summary is (portal/summary_pdf.py):
it fetches nothing, and says nothing of the record but the name it is addressed to.
"""

from __future__ import annotations

from datetime import datetime

from carnet.identity.visits import Letter
from carnet.portal.profile_display import Gettext
from carnet.portal.summary_pdf import refuse_fetch
from carnet.portal.web import Language, environment


def letter_pdf(language: Language, _: Gettext, *, letter: Letter, address: str, made_at: datetime) -> bytes:
    html = (
        environment(language)
        .get_template("counter/letter_pdf.html")
        .render(lang=language, letter=letter, address=address.rstrip("/"), made_at=made_at)
    )
    from weasyprint import HTML  # loaded on the first letter asked: its fonts and Pango cost a second at startup

    pdf: bytes = HTML(string=html, url_fetcher=refuse_fetch).write_pdf()
    return pdf
