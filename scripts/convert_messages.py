"""Rewrite every two-language message to the one catalogue, and update the catalogue.

    .venv/bin/python scripts/convert_messages.py          # rewrite, then update messages.po
    .venv/bin/python scripts/convert_messages.py --check  # exit 1 if anything would change

A message written twice in the code -- ``("Indonesian", "English")`` or
``ValidationError("Indonesian.", "English.")`` / ``message_en="English."`` (see
:mod:`web.message_pairs` for every shape) -- becomes ``_("Indonesian.")``; an
f-string's values become named fields (``f"Kode {c.code}"`` -> ``_("Kode {code}",
code=c.code)``). The English goes into ``web/translations/en/LC_MESSAGES/messages.po``;
where the same Indonesian already reads differently in English elsewhere, the new
place gets a gettext context (``_p("module:key", "Indonesian")``). Then the catalogue
is brought up to date as ``pybabel extract -F babel.cfg`` + ``pybabel update`` would
(``web/translations/messages.pot`` written, new messages added, stale ones dropped),
and ruff tidies the imports of the files it touched.

Deterministic and idempotent: a second run changes nothing. Run it again after
merging code that still writes both languages. It stops without writing when a
message cannot be rewritten safely (an f-string with nested fields in a format spec,
a dict of ``x`` / ``x_en`` values, ``_`` already bound in the function); convert
those by hand (``service.i18n.message("…", "…")`` is a shape it does rewrite).
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from babel.messages.catalog import Catalog  # noqa: E402
from babel.messages.pofile import write_po  # noqa: E402

from web import catalogue  # noqa: E402
from web.message_pairs import Pair, all_pairs, is_text  # noqa: E402

PO_WIDTH = 100


class Unconvertible(Exception):
    pass


@dataclass
class Template:
    """One language's text with ``{name}`` fields, and the fields' source expressions."""

    text: str
    params: dict[str, str] = field(default_factory=dict)


def _field_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    index = node.slice if isinstance(node, ast.Subscript) else None
    if isinstance(index, ast.Constant) and str(index.value).isidentifier():
        return str(index.value)
    if isinstance(node, ast.Call):
        return _field_name(node.func)
    return "value"


def _template(node: ast.expr, source: str, names: dict[str, str], escape: bool) -> Template:
    if isinstance(node, ast.Constant):
        text = str(node.value)
        return Template(text.replace("{", "{{").replace("}", "}}") if escape else text)
    assert isinstance(node, ast.JoinedStr)
    out = Template("")
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.text += str(part.value).replace("{", "{{").replace("}", "}}")
            continue
        assert isinstance(part, ast.FormattedValue)
        expression = ast.get_source_segment(source, part.value)
        if expression is None:
            raise Unconvertible("an f-string field without source")
        key = ast.unparse(part.value)
        if key not in names:
            base = _field_name(part.value).lstrip("_") or "value"
            name, n = base, 2
            while name in names.values():
                name, n = f"{base}_{n}", n + 1
            names[key] = name
        name = names[key]
        out.params[name] = " ".join(expression.split())
        spec = ""
        if part.format_spec is not None:
            assert isinstance(part.format_spec, ast.JoinedStr)
            if not all(isinstance(v, ast.Constant) for v in part.format_spec.values):
                raise Unconvertible("a format spec with fields")
            spec = ":" + "".join(str(v.value) for v in part.format_spec.values)  # type: ignore[attr-defined]
        conversion = "" if part.conversion == -1 else "!" + chr(part.conversion)
        out.text += "{" + name + conversion + spec + "}"
    return out


@dataclass
class Site:
    pair: Pair
    msgid: str
    english: str
    params: dict[str, str]
    module: str
    context: str | None = None

    def code(self) -> str:
        args = [json.dumps(self.msgid, ensure_ascii=False)]
        if self.context is not None:
            args.insert(0, json.dumps(self.context, ensure_ascii=False))
        args += [f"{k}={v}" for k, v in self.params.items()]
        return ("_p(" if self.context is not None else "_(") + ", ".join(args) + ")"


def _site(pair: Pair, source: str) -> Site:
    if not pair.rewritable:
        raise Unconvertible("a dict with x and x_en values, or an unknown callee's x_en=")
    has_fields = any(isinstance(n, ast.JoinedStr) and any(
        isinstance(v, ast.FormattedValue) for v in n.values) for n in (pair.indonesian, pair.english))  # fmt: skip
    names: dict[str, str] = {}
    one = _template(pair.indonesian, source, names, has_fields)
    two = _template(pair.english, source, names, has_fields)
    where = pair.path.relative_to(ROOT) if pair.path.is_relative_to(ROOT) else Path(pair.path.name)
    module = ".".join(where.with_suffix("").parts)
    return Site(pair, one.text, two.text, {**one.params, **two.params}, module)


def _contexts(sites: list[Site], po: Catalog) -> None:
    """A context for each place where the same Indonesian reads otherwise in English."""
    by_id: dict[str, list[Site]] = defaultdict(list)
    for site in sites:
        by_id[site.msgid].append(site)
    for msgid, group in sorted(by_id.items()):
        known = po.get(msgid)
        if known is not None and known.string:
            primary = str(known.string)
        else:
            counts = Counter(s.english for s in group)
            primary = min(counts, key=lambda e: (-counts[e], e))
        for site in group:
            if site.english != primary:
                key = site.pair.key or "text"
                site.context = f"{site.module.removeprefix('service.')}:{key}"


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    for i, byte in enumerate(data):
        if byte == 0x0A:
            starts.append(i + 1)
    return starts


def _offset(starts: list[int], line: int, col: int) -> int:
    return starts[line - 1] + col


def _span(pair: Pair) -> tuple[ast.AST, ast.AST]:
    node = pair.node
    if node is pair.indonesian and pair.drop is None:  # two arguments: replace both
        return pair.indonesian, pair.english
    return node, node


def _binds_underscore(tree: ast.Module, pair: Pair) -> bool:
    for scope in ast.walk(tree):
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Module):
            continue
        inside = any(n is pair.node for n in ast.walk(scope))
        if inside and any(
            isinstance(n, ast.Name) and n.id in ("_", "_p") and isinstance(n.ctx, ast.Store)
            for n in ast.walk(scope)
        ):
            return True
    return False


def _import_line(names: set[str]) -> bytes:
    return f"from service.i18n import {', '.join(sorted(names))}\n".encode()


def rewrite(path: Path, sites: list[Site]) -> bytes:
    data = path.read_bytes()
    starts = _line_starts(data)
    edits: list[tuple[int, int, bytes]] = []
    for site in sites:
        first, last = _span(site.pair)
        begin = _offset(starts, first.lineno, first.col_offset)  # type: ignore[attr-defined]
        end = _offset(starts, last.end_lineno, last.end_col_offset)  # type: ignore[attr-defined]
        edits.append((begin, end, site.code().encode()))
        if site.pair.drop is not None and site.pair.node is site.pair.indonesian:
            kw = site.pair.drop
            kw_begin = _offset(starts, kw.lineno, kw.col_offset)
            kw_end = _offset(starts, kw.end_lineno or kw.lineno, kw.end_col_offset or 0)
            comma = data.rfind(b",", 0, kw_begin)
            edits.append((comma, kw_end, b""))
        elif site.pair.drop is not None:  # message("…", message_en="…"): the call goes whole
            pass
    for begin, end, text in sorted(edits, reverse=True):
        data = data[:begin] + text + data[end:]
    wanted = {"_p" if s.context is not None else "_" for s in sites}
    tree = ast.parse(data)
    have = {
        a.asname or a.name
        for n in tree.body
        if isinstance(n, ast.ImportFrom) and n.module == "service.i18n"
        for a in n.names
    }
    missing = wanted - have
    if missing:
        future = data.find(b"from __future__ import annotations\n")
        at = future + len(b"from __future__ import annotations\n") if future >= 0 else 0
        data = data[:at] + _import_line(missing) + data[at:]
    return data


def collect() -> tuple[dict[Path, list[Site]], list[str]]:
    problems: list[str] = []
    by_file: dict[Path, list[Site]] = defaultdict(list)
    sources: dict[Path, str] = {}
    trees: dict[Path, ast.Module] = {}
    for pair in all_pairs(ROOT):
        source = sources.setdefault(pair.path, pair.path.read_text(encoding="utf-8"))
        tree = trees.setdefault(pair.path, ast.parse(source))
        try:
            if not (is_text(pair.indonesian) and is_text(pair.english)):
                raise Unconvertible("not text")
            if _binds_underscore(tree, pair):
                raise Unconvertible("_ is a variable in this function")
            by_file[pair.path].append(_site(pair, source))
        except Unconvertible as exc:
            problems.append(f"{pair.where}: {exc}")
    return by_file, problems


def update_catalogue(sites: list[Site]) -> tuple[bytes, bytes]:
    """The new messages.po and messages.pot (``pybabel extract`` + ``update``, English filled)."""
    po = catalogue.read_catalogue()
    template = catalogue.extract()
    template.creation_date = po.creation_date
    template.fuzzy = False
    pot = _written(template)  # before update: the catalogues share their messages after it
    po.update(template, no_fuzzy_matching=True, update_header_comment=False)
    po.obsolete.clear()
    for site in sites:
        entry = po.get(site.msgid, context=site.context)
        if entry is not None:
            entry.string = site.english
            entry.flags.discard("fuzzy")
    return _written(po), pot


def _written(catalog: Catalog) -> bytes:
    buffer = _Buffer()
    write_po(buffer, catalog, width=PO_WIDTH, no_location=True, omit_header=False)
    return buffer.getvalue()


class _Buffer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(data)

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _tidy(paths: list[Path]) -> None:
    if not paths:
        return
    ruff = Path(sys.executable).parent / "ruff"
    names = [str(p) for p in paths]
    subprocess.run([ruff, "check", "--fix", "-q", "--select", "F401,I001", *names], check=False)  # noqa: S603
    subprocess.run([ruff, "format", "-q", *names], check=True)  # noqa: S603


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if needed")
    args = parser.parse_args(argv)
    by_file, problems = collect()
    if problems:
        print("cannot rewrite these by script (convert them by hand):", file=sys.stderr)
        print("\n".join(f"  {p}" for p in problems), file=sys.stderr)
        return 2
    po = catalogue.read_catalogue()
    everything = [s for sites in by_file.values() for s in sites]
    _contexts(everything, po)
    if args.check:
        po_text, _pot = update_catalogue([]) if not everything else (b"", b"")
        stale = not everything and catalogue.PO_PATH.read_bytes() != po_text
        if everything or stale:
            print(f"{len(everything)} two-language messages; catalogue stale: {stale}")
            return 1
        return 0
    for path, sites in sorted(by_file.items()):
        path.write_bytes(rewrite(path, sites))
    _tidy(sorted(by_file))
    po_text, pot_text = update_catalogue(everything)
    catalogue.PO_PATH.write_bytes(po_text)
    catalogue.POT_PATH.write_bytes(pot_text)
    print(f"rewrote {len(everything)} messages in {len(by_file)} files; catalogue updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
