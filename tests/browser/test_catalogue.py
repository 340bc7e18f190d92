"""Every string on the pages has its English translation, and dates read as the SOP writes them."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from web import app, i18n, texts

TEMPLATES = Path(app.__file__).parent / "templates"
CALL = re.compile(r"""_\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\)""")


def page_strings() -> set[str]:
    found = {p.title for p in app.PAGES} | set(texts.JS_STRINGS.values())
    for template in TEMPLATES.glob("*.html"):
        for match in CALL.finditer(template.read_text(encoding="utf-8")):
            found.add(match.group(1) if match.group(1) is not None else match.group(2))
    return found


def test_every_page_string_is_translated() -> None:
    po_path = i18n.CATALOGUE_DIR / "en" / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(page_strings() - translated)
    assert not missing, f"untranslated in messages.po: {missing}"


def test_english_catalogue_is_compiled_at_startup() -> None:
    assert i18n.translations("en").gettext("Papan Status") == "Status board"
    assert i18n.translations("id").gettext("Papan Status") == "Papan Status"


def test_dates_in_indonesian_format() -> None:
    assert i18n.long_date(date(2026, 11, 25), "id") == "Rabu, 25 November 2026"
    assert i18n.long_date(date(2026, 11, 25), "en") == "Wednesday, 25 November 2026"
