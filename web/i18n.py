"""Languages of the pages: Indonesian first (the source strings), English by a switch.

The English catalogue is ``translations/en/LC_MESSAGES/messages.po``; it is compiled
in memory when first needed, so a fresh ``pip install -e .`` works without a build
step. Dates are written the Indonesian way (``Rabu, 25 November 2026``); the scripts
write times in WIB (``14.05 WIB``).
"""

from __future__ import annotations

import gettext
import io
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("id", "en")
CATALOGUE_DIR = Path(__file__).parent / "translations"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang``; Indonesian is the source language (no catalogue)."""
    po_path = CATALOGUE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == "id" or not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def long_date(day: date, lang: str) -> str:
    """``Rabu, 25 November 2026`` (Indonesian) or ``Wednesday, 25 November 2026``."""
    return str(format_date(day, "EEEE, d MMMM y", locale="id" if lang == "id" else "en_GB"))
