"""Every string the portal shows is in both catalogues, translated, and none of the catalogues' entries is stale.

The strings are extracted as `pybabel extract -F src/carnet/portal/babel.cfg` does; a template's text outside
`{% trans %}` or `_()` fails too, since extraction would not see it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from carnet.portal.web import HERE, LANGUAGES, LOCALES, Language, catalogue_path, environment

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Left as they are in every language: the name of the service, and each language's own name on the switch.
UNTRANSLATED = {"Carnet", "English", "Français"}


def extracted() -> set[str | tuple[str, ...]]:
    with (HERE / "babel.cfg").open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(HERE, method_map, options_map):
        found.add(message if isinstance(message, str) else tuple(m for m in message if m))
    return found


def catalogue(language: Language) -> Catalog:
    with catalogue_path(language).open("rb") as po:
        return read_po(po, locale=LOCALES[language])


def test_extraction_finds_the_portals_strings() -> None:
    messages = extracted()
    assert "Sign in" in messages and "Choose a password of at least 12 characters." in messages
    assert len(messages) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_shown_is_in_the_catalogue_and_translated(language: Language) -> None:
    wanted = extracted()
    entries = {m.id: m for m in catalogue(language) if m.id}
    missing = sorted(str(m) for m in wanted if m not in entries)
    assert not missing, f"not in {language}'s catalogue (run pybabel extract and update, see README): {missing}"
    stale = sorted(str(m) for m in entries if m not in wanted)
    assert not stale, f"in {language}'s catalogue but no longer shown: {stale}"
    for message in entries.values():
        strings = tuple(message.string) if isinstance(message.string, (tuple, list)) else (message.string or "",)
        assert all(strings), f"{language} has no translation for {message.id!r}"
        source = message.id if isinstance(message.id, str) else message.id[0]
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(source)), message.id


def test_french_translates_rather_than_copies() -> None:
    same = [m.id for m in catalogue("fr") if m.id and m.string == m.id]
    assert set(same) <= {"Prescription", "Dispensation", "Code", "Patients", "Menu"}, same


def _visible_text(source: str) -> str:
    """A template's own text: what is left once Jinja's tags, expressions, trans blocks and HTML tags are gone."""
    text = re.sub(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", " ", source, flags=re.DOTALL)
    text = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "\x00", text, flags=re.DOTALL)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.DOTALL)
    attributes = re.findall(r'\s(?:alt|title|aria-label|placeholder)="([^"\x00]*[A-Za-z][^"\x00]*)"', text)
    text = re.sub(r"<[^>]*>", " ", text)
    return " ".join([*attributes, text])


@pytest.mark.parametrize(
    "template", sorted(p.relative_to(HERE / "templates").as_posix() for p in (HERE / "templates").rglob("*.html"))
)
def test_templates_show_no_text_outside_the_catalogue(template: str) -> None:
    source = (HERE / "templates" / template).read_text(encoding="utf-8")
    words = set(re.findall(r"[^\W\d_]{2,}", _visible_text(source))) - UNTRANSLATED
    assert not words, f"{template} shows text outside {{% trans %}} or _(): {sorted(words)}"
    environment("fr").get_template(template)  # and it compiles


def test_a_literal_string_in_a_template_would_be_caught() -> None:
    assert "Bienvenue" in _visible_text("<p>Bienvenue</p>{{ _('Sign in') }}")
    assert "Menu" in _visible_text('<nav aria-label="Menu">{% trans %}Home{% endtrans %}</nav>')
    assert not re.findall(r"[^\W\d_]{2,}", _visible_text("<p>{% trans %}Home{% endtrans %}</p>"))


def test_the_catalogues_are_po_files_only() -> None:
    assert not list((HERE / "locales").rglob("*.mo")), "catalogues are compiled at startup, never committed"
    assert {p.parent.parent.name for p in Path(HERE / "locales").rglob("messages.po")} == set(LANGUAGES)
