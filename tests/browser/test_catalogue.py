"""Every string on the pages has its English translation, and dates read as the SOP writes them."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from babel.messages.pofile import read_po

from web import app, catalogue, i18n, texts

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


def test_every_message_of_the_code_and_the_pages_has_its_english() -> None:
    """What ``pybabel extract -F babel.cfg`` finds (plus the pages' titles and strings)."""
    wanted = catalogue.extract()
    translated = catalogue.read_catalogue()
    missing = sorted(
        f"{m.context}|{m.id}" if m.context else str(m.id)
        for m in wanted
        if m.id and not (translated.get(m.id, context=m.context) or _EMPTY).string
    )
    assert not missing, f"untranslated in messages.po (run scripts/convert_messages.py): {missing}"


def test_the_catalogue_holds_no_stale_message() -> None:
    stale = catalogue.keys(catalogue.read_catalogue()) - catalogue.keys(catalogue.extract())
    assert not stale, f"in messages.po but nowhere in the code: {sorted(map(str, stale))}"


class _Empty:
    string = ""


_EMPTY = _Empty()
