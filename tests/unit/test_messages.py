"""One message catalogue: Indonesian in the code, English from messages.po, at the edge."""

from __future__ import annotations

import ast
import enum
import re
from pathlib import Path

import pytest

from service.errors import Busy, ConfigError, Conflict, ValidationError
from service.i18n import N_, Msg, _, _p, as_msg, both, message, render, translations
from web import catalogue
from web.message_pairs import all_pairs, find_pairs, pair_callables


def test_a_message_is_indonesian_in_the_code_and_english_from_the_catalogue() -> None:
    text = _("Kunjungan sudah ditutup.")
    assert isinstance(text, Msg)
    assert render(text) == str(text) == "Kunjungan sudah ditutup."
    assert render(text, "en") == translations("en").gettext("Kunjungan sudah ditutup.")
    assert both(_("Konfigurasi salah: {message}", message="x")) == (
        "Konfigurasi salah: x",
        "Bad configuration: x",
    )


def test_values_and_labels_are_rendered_in_the_same_language() -> None:
    label = message("Nama", "Name")
    text = message("{label} wajib diisi.", "{label} is required.").with_params(label=label)
    assert both(text) == ("Nama wajib diisi.", "Name is required.")


def test_an_unknown_message_reads_in_indonesian_in_both_languages() -> None:
    text = _("Kalimat yang belum ada di katalog {n}.", n=3)
    assert both(text) == (
        "Kalimat yang belum ada di katalog 3.",
        "Kalimat yang belum ada di katalog 3.",
    )


def test_a_context_keeps_one_indonesian_text_apart() -> None:
    assert render(_p("no:such-context", "Perusahaan"), "en") == "Perusahaan"  # not in catalogue
    assert render(_p("no:such-context", "Perusahaan")) == "Perusahaan"


def test_a_broken_translation_falls_back_to_the_indonesian_fields() -> None:
    text = Msg("Nilai {a}.", {"a": 1}, english="Value {b}.")
    assert text.render("en") == "Nilai 1."


def test_a_message_with_literal_braces_and_values_is_shown_as_written() -> None:
    assert Msg("Kirim {data} sebagai JSON {}.", {"data": "x"}).render() == (
        "Kirim {data} sebagai JSON {}."
    )


def test_n_marks_only() -> None:
    assert N_("Papan Status") == "Papan Status"


def test_legacy_pairs_render_like_messages() -> None:
    assert both(("Satu", "One")) == ("Satu", "One")
    assert both("KTP") == ("KTP", "KTP")
    assert as_msg(("Satu", "One")).render("en") == "One"


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("Nama wajib diisi.", "Name is required.", field="name"),
        ValidationError(message("Nama wajib diisi.", "Name is required."), field="name"),
        Conflict(("Nama wajib diisi.", "Name is required.")),
    ],
)
def test_errors_take_one_message_or_the_old_two(error: ValidationError | Conflict) -> None:
    assert error.message("id") == error.message_id == "Nama wajib diisi."
    assert error.message("en") == error.message_en == "Name is required."
    assert str(error) == "Name is required."


def test_an_error_with_one_message_is_translated_by_the_catalogue() -> None:
    error = ConfigError("[room] must be a table")
    assert error.message_id == "Konfigurasi salah: [room] must be a table"
    assert error.message_en == "Bad configuration: [room] must be a table"
    busy = Busy(_("Konfigurasi salah: {message}", message="x"), retry_after_s=3)
    assert busy.message("en") == "Bad configuration: x" and busy.retry_after_s == 3


def _pairs_of(source: str) -> list[tuple[str, str]]:
    tree = ast.parse(source)
    callables = pair_callables({Path("x.py"): tree})
    callables.update({"ValidationError": 0, "invalid": 1, "message": 0})
    return [
        (ast.unparse(p.indonesian), ast.unparse(p.english))
        for p in find_pairs(Path("x.py"), tree, callables)
    ]


def test_the_finder_sees_every_shape_of_a_two_language_message() -> None:
    source = """
def f(code, exc):
    raise ValidationError(f"Kode {code} salah.", f"Code {code} is wrong.", field="code")
def g():
    raise ValidationError("Satu.", message_en="One.")
def h(name):
    return invalid(name, "{label} wajib diisi.", "{label} is required.")
WORDS = {"a": ("Kartu", "Badge"), "b": ("antrian", "queue")}
PAIR = ("Nama pengguna salah.", "Wrong username.")
def x_pair(text, text_en): ...
y = x_pair("Satu", "One")
"""
    assert sorted(_pairs_of(source)) == sorted(
        [
            ("f'Kode {code} salah.'", "f'Code {code} is wrong.'"),
            ("'Satu.'", "'One.'"),
            ("'{label} wajib diisi.'", "'{label} is required.'"),
            ("'Kartu'", "'Badge'"),
            ("'antrian'", "'queue'"),
            ("'Nama pengguna salah.'", "'Wrong username.'"),
            ("'Satu'", "'One'"),
        ]
    )


def test_the_finder_leaves_keys_vocabularies_and_comparisons_alone() -> None:
    source = """
LANGS = ("id", "en")
SEX = ("LAKI-LAKI", "PEREMPUAN")
TYPES = ("image/jpeg", "image/png")
ok = kind in ("Path", "Path | None")
raise ValidationError(_("Satu."))
"""
    assert _pairs_of(source) == []


def test_the_code_writes_no_message_in_two_languages_the_script_cannot_convert() -> None:
    """A dict of ``x``/``x_en`` texts or an unknown callee's ``x_en=`` needs a hand: none."""
    assert [p.where for p in all_pairs() if not p.rewritable] == []


def test_no_message_is_written_in_two_languages_any_more() -> None:
    """``("id", "en")`` pairs and two-argument errors are gone: the English is in messages.po.

    Run ``.venv/bin/python scripts/convert_messages.py`` to convert new ones.
    """
    found = [f"{p.where}: {ast.unparse(p.indonesian)[:60]}" for p in all_pairs()]
    assert found == []


# Words that are the same in Indonesian use as the input's key (loan words of the office).
LOAN_WORDS = frozenset({"token", "format", "label", "scanner"})


def _internal_names() -> set[str]:
    from service.api.labels import LABELS
    from service.domain import lifecycle

    names = set(LABELS)
    for value in vars(lifecycle).values():
        if (
            isinstance(value, type)
            and issubclass(value, enum.StrEnum)
            and value is not enum.StrEnum
        ):
            names |= {m.value for m in value}
    return names


def _shows(text: str, internal: set[str]) -> set[str]:
    text = re.sub(r"\{[^{}]*\}", "", text).replace("bidroom serve", "")
    quoted = set(re.findall(r"""['"`]([A-Za-z_]+)['"`]""", text))
    words = set(re.findall(r"[A-Za-z_]+", text)) - LOAN_WORDS
    return (quoted | words) & internal


def test_the_internal_name_check_sees_keys_and_states() -> None:
    internal = _internal_names()
    assert {"name", "doc_number", "issued", "claimed"} <= internal
    assert _shows("Isian 'name' salah.", internal) == {"name"}
    assert _shows("Kartu berstatus issued.", internal) == {"issued"}
    assert _shows("doc_number wajib diisi.", internal) == {"doc_number"}
    assert _shows("{label} wajib diisi; token dan label kartu.", internal) == set()


def test_an_indonesian_message_never_shows_a_field_key_or_an_internal_state() -> None:
    internal = _internal_names()
    shown = [
        f"{entry.id} {sorted(_shows(str(entry.id), internal))}"
        for entry in catalogue.extract()
        if entry.id and _shows(str(entry.id), internal)
    ]
    assert shown == []
