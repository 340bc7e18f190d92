"""scripts/convert_messages.py rewrites each shape of a two-language message the same way."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from service.i18n import Msg
from web.message_pairs import find_pairs

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "convert_messages.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_messages", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["convert_messages"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


BEFORE = '''"""A module."""

from __future__ import annotations

from service.errors import ValidationError
from service.i18n import message


def f(visit, n):
    if n:
        raise ValidationError(
            f"Kunjungan {visit.id} ({n:02d}) sudah {{ditutup}}.",
            f"Visit {visit.id} ({n:02d}) is {{closed}}.",
            field="visit_id",
        )
    raise ValidationError("Satu.", message_en="One.", field="x")


WORDS = {
    "a": ("Kartu", "Badge"),
    "b": ("antrian", "queue"),
}
ALSO = message("Dua", "Two").with_params(x=1)
'''

AFTER = '''"""A module."""

from __future__ import annotations
from service.i18n import _

from service.errors import ValidationError
from service.i18n import message


def f(visit, n):
    if n:
        raise ValidationError(
            _("Kunjungan {id} ({n:02d}) sudah {{ditutup}}.", id=visit.id, n=n),
            field="visit_id",
        )
    raise ValidationError(_("Satu."), field="x")


WORDS = {
    "a": _("Kartu"),
    "b": _("antrian"),
}
ALSO = _("Dua").with_params(x=1)
'''


def test_every_shape_is_rewritten_to_one_message(script: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "module.py"
    path.write_text(BEFORE, encoding="utf-8")
    tree = ast.parse(BEFORE)
    callables = {"ValidationError": 0, "message": 0}
    sites = [script._site(p, BEFORE) for p in find_pairs(path, tree, callables)]
    assert sorted((s.msgid, s.english) for s in sites) == [
        ("Dua", "Two"),
        ("Kartu", "Badge"),
        ("Kunjungan {id} ({n:02d}) sudah {{ditutup}}.", "Visit {id} ({n:02d}) is {{closed}}."),
        ("Satu.", "One."),
        ("antrian", "queue"),
    ]
    assert script.rewrite(path, sites).decode() == AFTER  # ruff sorts the imports afterwards
    fields = next(s for s in sites if "{id}" in s.msgid)
    assert Msg(fields.msgid, {"id": 7, "n": 3}).render() == "Kunjungan 7 (03) sudah {ditutup}."
    assert fields.params == {"id": "visit.id", "n": "n"}


def test_a_context_goes_where_the_same_indonesian_reads_otherwise(
    script: ModuleType, tmp_path: Path
) -> None:
    source = 'A = {"x": ("Catatan", "Note"), "y": ("Catatan", "Records")}\n'
    path = tmp_path / "m.py"
    path.write_text(source, encoding="utf-8")
    sites = [script._site(p, source) for p in find_pairs(path, ast.parse(source), {})]
    script._contexts(sites, script.Catalog())
    assert {(s.english, s.context) for s in sites} == {
        ("Note", None),
        ("Records", f"{sites[0].module.removeprefix('service.')}:y"),
    }


def test_f_string_fields_that_cannot_be_named_safely_are_refused(
    script: ModuleType, tmp_path: Path
) -> None:
    source = 'raise ValidationError(f"Nilai {x:{w}}.", f"Value {x:{w}}.")\n'
    path = tmp_path / "m.py"
    pair = next(find_pairs(path, ast.parse(source), {"ValidationError": 0}))
    with pytest.raises(script.Unconvertible):
        script._site(pair, source)
