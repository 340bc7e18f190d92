"""Messages still written in both languages in the code, found by reading the source.

Before the one catalogue, a text for a person was written twice: ``("Indonesian",
"English")`` as a tuple, or ``ValidationError("Indonesian.", "English.")`` as two
arguments. This module finds those pairs (and the shapes it cannot rewrite), for
``scripts/convert_messages.py`` (which rewrites them to ``_("Indonesian.")`` and moves
the English into the catalogue) and for the test that keeps them from coming back.

What counts as a pair:

* a call whose callee takes an ``(text, ..._en)`` pair of parameters -- every
  :class:`service.errors.BidroomError`, ``params.invalid``, ``service.i18n.message``
  and any function declaring ``x, x_en`` -- with two text literals there, or the
  English given as ``message_en=``;
* a 2-tuple of text literals that reads as a sentence or a capitalised word (not a
  key, a MIME type or a path), outside a comparison; in a dict whose values are all
  such 2-tuples, every value counts once one does;
* (reported, not rewritten) a dict with ``"x"`` and ``"x_en"`` text literals side by side.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ("service", "web", "devices")
_KEYLIKE = re.compile(r"^[a-z0-9_:/.+\-]*$")
_WORD = re.compile(r"[A-Z][a-z]|[a-z]\s|\s[a-z]")
_NOT_A_PAIR_CALL = frozenset({"startswith", "endswith", "partition", "split", "isinstance"})


@dataclass(frozen=True, slots=True)
class Pair:
    """One two-language message in one file."""

    path: Path
    node: ast.expr  # what is replaced: the tuple, the call, or the first argument
    indonesian: ast.expr
    english: ast.expr
    key: str  # where it stands (a dict key, a name, a function), for a gettext context
    drop: ast.keyword | None = None  # the ``message_en=`` keyword to delete
    rewritable: bool = True

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.node.lineno}"


def source_files(root: Path = ROOT) -> list[Path]:
    files: list[Path] = []
    for package in CODE:
        files += [p for p in (root / package).rglob("*.py") if "migrations" not in p.parts]
    return sorted(files)


def is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def literal_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant):
        return str(node.value)
    assert isinstance(node, ast.JoinedStr)
    return "".join(str(v.value) for v in node.values if isinstance(v, ast.Constant))


def _reads_as_message(first: ast.expr, second: ast.expr) -> bool:
    one, two = literal_text(first).strip(), literal_text(second).strip()
    if not re.search(r"[A-Za-z]", one) or _KEYLIKE.match(one):
        return False
    if one != two and one == one.upper() and two == two.upper():
        return False  # a card's vocabulary ("LAKI-LAKI", "PEREMPUAN"), not two languages
    return bool(_WORD.search(one) or _WORD.search(two) or one == two)


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


def _pair_index(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    names = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    for i in range(len(names) - 1):
        if names[i + 1].endswith("_en") and not names[i].endswith("_en"):
            return i
    return None


def _class_init(node: ast.ClassDef, found: dict[str, int], own_init: set[str]) -> None:
    for item in node.body:
        if isinstance(item, ast.FunctionDef) and item.name == "__init__":
            own_init.add(node.name)
            index = _pair_index(item)
            if index is not None:
                found[node.name] = index


def pair_callables(trees: dict[Path, ast.Module]) -> dict[str, int]:
    """Callee name -> index of the Indonesian argument, for callees taking ``x, x_en``."""
    found: dict[str, int] = {}
    own_init: set[str] = set()
    bases: dict[str, list[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = [
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases
                    if isinstance(b, ast.Name | ast.Attribute)
                ]
                _class_init(node, found, own_init)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                index = _pair_index(node)
                if index is not None and node.name != "__init__":
                    found[node.name] = index
    changed = True
    while changed:  # a subclass without its own __init__ takes its base's
        changed = False
        for name, parents in sorted(bases.items()):
            if name in found or name in own_init:
                continue
            for parent in parents:
                if parent in found:
                    found[name] = found[parent]
                    changed = True
                    break
    return found


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _key_of(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> str:
    parent = parents.get(node)
    if isinstance(parent, ast.Dict):
        for k, v in zip(parent.keys, parent.values, strict=True):
            if v is node and k is not None:
                return str(k.value) if isinstance(k, ast.Constant) else ast.unparse(k)
    while parent is not None:
        if isinstance(parent, ast.Assign) and isinstance(parent.targets[0], ast.Name):
            return parent.targets[0].id
        if isinstance(parent, ast.AnnAssign) and isinstance(parent.target, ast.Name):
            return parent.target.id
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            return parent.name
        parent = parents.get(parent)
    return ""


def _tuple_pair(node: ast.Tuple, parents: dict[ast.AST, ast.AST]) -> bool:
    if len(node.elts) != 2 or not all(is_text(e) for e in node.elts):
        return False
    parent = parents.get(node)
    if isinstance(parent, ast.Compare | ast.Subscript | ast.For | ast.comprehension):
        return False
    if isinstance(parent, ast.Call) and _callee(parent) in _NOT_A_PAIR_CALL:
        return False
    if _reads_as_message(node.elts[0], node.elts[1]):
        return True
    if isinstance(parent, ast.Dict) and node in parent.values:  # a table of messages
        values = parent.values
        if all(isinstance(v, ast.Tuple) and len(v.elts) == 2 for v in values):
            tuples = [v for v in values if isinstance(v, ast.Tuple)]
            return any(
                all(is_text(e) for e in v.elts) and _reads_as_message(v.elts[0], v.elts[1])
                for v in tuples
            )
    return False


def find_pairs(path: Path, tree: ast.Module, callables: dict[str, int]) -> Iterator[Pair]:
    parents = _parents(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Tuple) and _tuple_pair(node, parents):
            yield Pair(path, node, node.elts[0], node.elts[1], _key_of(node, parents))
        elif isinstance(node, ast.Call):
            yield from _call_pairs(path, node, callables, parents)
        elif isinstance(node, ast.Dict):
            keys = {k.value: v for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)}  # fmt: skip
            for name, value in keys.items():
                english = keys.get(f"{name}_en")
                if english is not None and is_text(value) and is_text(english):
                    key = _key_of(node, parents)
                    yield Pair(path, value, value, english, key, rewritable=False)


def _call_pairs(
    path: Path, node: ast.Call, callables: dict[str, int], parents: dict[ast.AST, ast.AST]
) -> Iterator[Pair]:
    name = _callee(node)
    english_kw = next((k for k in node.keywords if k.arg and k.arg.endswith("_en")), None)
    if name not in callables:
        if english_kw is not None and is_text(english_kw.value):
            yield Pair(path, node, english_kw.value, english_kw.value, "", rewritable=False)
        return
    index = callables[name]
    args = node.args
    if any(isinstance(a, ast.Starred) for a in args[: index + 2]):
        return
    key = _key_of(node, parents)
    if len(args) > index + 1 and is_text(args[index]) and is_text(args[index + 1]):
        whole = name == "message"  # ``message("…", "…")`` is only the wrapper: it goes
        target = node if whole else args[index]
        yield Pair(path, target, args[index], args[index + 1], key)
    elif len(args) > index and english_kw is not None and is_text(english_kw.value):
        target = node if name == "message" else args[index]
        if is_text(args[index]):
            yield Pair(path, target, args[index], english_kw.value, key, drop=english_kw)


def parse_all(root: Path = ROOT) -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in source_files(root)}


def all_pairs(root: Path = ROOT) -> list[Pair]:
    trees = parse_all(root)
    callables = pair_callables(trees)
    found: list[Pair] = []
    for path, tree in trees.items():
        found += find_pairs(path, tree, callables)
    return found
