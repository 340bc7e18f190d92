"""What the one catalogue must hold: every message of the code, the templates and the pages.

Babel's extractor reads ``babel.cfg`` (the Python of service/, web/, devices/ with the
markers ``_``, ``N_`` and ``_p``; the Jinja2 templates with ``_``); the pages' titles
and the strings for the scripts (``PAGES``, ``JS_STRINGS``) are plain strings
translated where they are shown, so they are added from the running code. Used by
``scripts/convert_messages.py`` to update ``messages.po`` and by the tests that keep
every message translated and no stale entry in the catalogue.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from service.i18n import CATALOGUE_DIR
from web import app, texts

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "babel.cfg"
KEYWORDS: dict[str, tuple[int | tuple[int, str], ...] | None] = {
    "_": None,
    "N_": None,
    "_p": ((1, "c"), 2),
}
PO_PATH = CATALOGUE_DIR / "en" / "LC_MESSAGES" / "messages.po"
POT_PATH = CATALOGUE_DIR / "messages.pot"


def extract() -> Catalog:
    """The template catalogue (what ``pybabel extract -F babel.cfg`` finds, plus the pages')."""
    with MAPPING.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)  # type: ignore[no-untyped-call]
    catalog = Catalog(project="bidroom", version="0.1.0", charset="utf-8")
    found = extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, strip_comment_tags=True
    )
    for filename, lineno, text, _comments, context in found:
        msgid = text[-1] if isinstance(text, tuple) else text
        if msgid:
            catalog.add(msgid, None, [(filename, lineno)], context=context)
    for page in app.PAGES:
        catalog.add(page.title, None, [("web/app.py", 0)])
    for text in texts.JS_STRINGS.values():
        catalog.add(text, None, [("web/texts.py", 0)])
    return catalog


def read_catalogue(path: Path = PO_PATH) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale="en")


def keys(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {(str(m.id), m.context) for m in catalog if m.id}
