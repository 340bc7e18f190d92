"""One message catalogue for the service, the readers, the reports and the pages.

Indonesian is the source language: a message is written in Indonesian in the code,
marked for Babel's extractor, and translated at the edge (the API's error
middleware by the request's language, the pages, the readers' feedback, the
reports' language option) from the English catalogue
``web/translations/en/LC_MESSAGES/messages.po``. The pure domain builds messages
with :func:`_` and never translates them itself.

* ``_("Kunjungan sudah ditutup.")`` -- a :class:`Msg`, translated when rendered;
  values go in as ``str.format`` fields: ``_("Kode {code} tidak dikenal.", code=c)``.
  A value may itself be a :class:`Msg` (a field's label), rendered in the same language.
* ``_p("reports.wording:companies", "Perusahaan")`` -- the same with a gettext context,
  for a source text that reads differently in English in another place.
* ``N_("Papan Status")`` -- only marks a plain string for the extractor (the pages'
  strings, translated with :func:`gettext` where they are shown).

The catalogue is compiled in memory the first time a language is needed, so a fresh
``pip install -e .`` works without a build step. ``babel.cfg`` tells ``pybabel
extract`` where the messages are (see the README's "Languages" section).
"""

from __future__ import annotations

import gettext as _gettext
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TypeAlias

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("id", "en")
SOURCE_LANGUAGE = "id"
# The catalogue ships with the pages' templates (one file for every text of bidroom);
# it is data read here, not a module imported from ``web``.
CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "web" / "translations"
DOMAIN = "messages"


@dataclass(frozen=True, slots=True)
class Msg:
    """A message in the source language, translated when it is rendered.

    ``english`` is only set for a message still written the old way, with both
    languages in the code (``ValidationError("…", "…")``); the conversion script
    (``scripts/convert_messages.py``) moves that English into the catalogue.
    """

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)
    context: str | None = None
    english: str | None = None

    def render(self, lang: str = SOURCE_LANGUAGE) -> str:
        if lang == "en" and self.english is not None:
            text = self.english
        elif self.context is not None:
            text = translations(lang).pgettext(self.context, self.msgid)
        else:
            text = translations(lang).gettext(self.msgid)
        if not self.params:
            return text
        values = {k: render(v, lang) if isinstance(v, Msg) else v for k, v in self.params.items()}
        for template in (text, self.msgid):  # a translation naming a field the code lacks
            try:
                return template.format(**values)
            except (KeyError, IndexError, ValueError, AttributeError):
                continue
        return text  # literal braces in a message given values: shown as written

    def with_params(self, **params: object) -> Msg:
        return Msg(self.msgid, {**self.params, **params}, self.context, self.english)

    def __str__(self) -> str:
        return self.render(SOURCE_LANGUAGE)


# A text shown to someone: a message, or (until ``scripts/convert_messages.py`` has run
# over code written before the catalogue) an ``(Indonesian, English)`` pair, or a plain
# string that is not translated (a name, a code).
Text: TypeAlias = Msg | tuple[str, str] | str


def _(msgid: str, /, **params: object) -> Msg:
    """A message in Indonesian, translated at the edge; ``{name}`` fields take ``params``."""
    return Msg(msgid, params)


def _p(context: str, msgid: str, /, **params: object) -> Msg:
    """:func:`_` with a gettext context: the same Indonesian, another English elsewhere."""
    return Msg(msgid, params, context)


def N_(msgid: str) -> str:
    """Marks a plain string for the extractor; it is translated where it is shown."""
    return msgid


def message(text: str, message_en: str | None = None) -> Msg:
    """A message from the old two-argument form (or a plain string already in place)."""
    return Msg(text, english=message_en)


def as_msg(text: Text) -> Msg:
    if isinstance(text, Msg):
        return text
    if isinstance(text, tuple):
        return Msg(text[0], english=text[1])
    return Msg(text, english=text)


def render(text: Text, lang: str = SOURCE_LANGUAGE) -> str:
    """``text`` in ``lang`` (``"id"`` or ``"en"``)."""
    if isinstance(text, Msg):
        return text.render(lang)
    if isinstance(text, tuple):
        return text[1] if lang == "en" else text[0]
    return text


def both(text: Text) -> tuple[str, str]:
    """``(Indonesian, English)`` for the JSON answers that carry both languages."""
    return render(text, "id"), render(text, "en")


def gettext(msgid: str, lang: str) -> str:
    return translations(lang).gettext(msgid)


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """The catalogue of ``lang``; Indonesian is the source language (no catalogue)."""
    po_path = CATALOGUE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if lang == SOURCE_LANGUAGE or not po_path.exists():
        return _gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)
