"""Languages of the pages: Indonesian first (the source strings), English by a switch.

The English catalogue is ``translations/en/LC_MESSAGES/messages.po``, the one
catalogue of bidroom (the service's messages are in it too); ``service.i18n`` loads
it, compiled in memory when first needed, so a fresh ``pip install -e .`` works
without a build step. Dates are written the Indonesian way (``Rabu, 25 November 2026``); the scripts
write times in WIB (``14.05 WIB``).
"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from service.i18n import CATALOGUE_DIR, LANGUAGES, Text, render, translations

__all__ = ["CATALOGUE_DIR", "LANGUAGES", "Text", "long_date", "render", "translations"]


def long_date(day: date, lang: str) -> str:
    """``Rabu, 25 November 2026`` (Indonesian) or ``Wednesday, 25 November 2026``."""
    return str(format_date(day, "EEEE, d MMMM y", locale="id" if lang == "id" else "en_GB"))
