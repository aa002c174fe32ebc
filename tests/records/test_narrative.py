"""A CDA's narrative read as text: sections, lines, tables, never markup; anything else is not a CDA."""

from __future__ import annotations

import base64

from carnet.records.narrative import Section, cda_narrative
from tests.factories import CDA

STRUCTURED = b"""<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <title>Compte rendu d'hospitalisation</title>
  <component><structuredBody>
    <component><section>
      <title>Motif</title>
      <text>Douleur <content styleCode="Bold">thoracique</content> depuis 2 jours.<br/>Pas de fievre.
        <paragraph>Examen <sub>normal</sub>.</paragraph>
        <list><item>Aspirine 75 mg</item><item>Repos</item></list>
        <table><thead><tr><th>Examen</th><th>Valeur</th></tr></thead>
        <tbody><tr><td>Troponine</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td></tr></tbody></table>
      </text>
      <component><section><title>Antecedents</title><text>Aucun.</text></section></component>
    </section></component>
  </structuredBody></component>
</ClinicalDocument>"""


def test_a_structured_body_reads_as_sections_of_lines() -> None:
    narrative = cda_narrative(STRUCTURED)
    assert narrative is not None and narrative.title == "Compte rendu d'hospitalisation"
    assert narrative.sections == [
        Section(
            title="Motif",
            lines=[
                "Douleur thoracique depuis 2 jours.",
                "Pas de fievre.",
                "Examen normal.",
                "Aspirine 75 mg",
                "Repos",
                "Examen · Valeur",
                "Troponine · <script>alert(1)</script>",  # text, shown escaped by the page: it never runs
            ],
        ),
        Section(title="Antecedents", lines=["Aucun."], depth=2),
    ]


def test_an_unstructured_body_reads_as_its_text_or_its_decoded_base64() -> None:
    narrative = cda_narrative(CDA)
    assert narrative is not None and narrative.title == "Bilan biologique"
    assert narrative.sections == [Section(title="", lines=["Hémoglobine 13,5 g/dL"])]
    encoded = base64.b64encode(b"Ligne 1\nLigne 2").decode()
    b64 = (
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><component><nonXMLBody>'
        f'<text representation="B64" mediaType="text/plain">{encoded}</text>'
        "</nonXMLBody></component></ClinicalDocument>"
    ).encode()
    decoded = cda_narrative(b64)
    assert decoded is not None and decoded.sections[0].lines == ["Ligne 1", "Ligne 2"]
    pdf_inside = cda_narrative(b64.replace(b"text/plain", b"application/pdf"))
    assert pdf_inside is not None and pdf_inside.sections[0].lines == []  # not text: nothing shown as text


def test_what_is_not_a_cda_document_has_no_narrative() -> None:
    assert cda_narrative(b"%PDF-1.4 not xml") is None
    assert cda_narrative(b"<html><body>hello</body></html>") is None
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    assert cda_narrative(bomb) is None
