"""Imports point one way: each ftkit module imports only those listed below its own in ftkit/__init__.py's
map, every module is on the map, and m2scorer imports nothing of ftkit."""

import ast
import re

import ftkit
from conftest import REPO

PACKAGE = REPO / "ftkit"


def map_rows():
    """The map's module names, one list per line of it, top first (continuation lines hold no names)."""
    rows = []
    for line in ftkit.__doc__.split("\n\n", 1)[1].splitlines():
        names = re.match(r"^    ([a-z_]+/?(?:, [a-z_]+/?)*)(?:\s{2,}|$)", line)
        if names:
            rows.append([name.rstrip("/") for name in names.group(1).split(", ")])
    return rows


def ftkit_imports(path):
    """The ftkit modules `path` imports at run time (not those under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ftkit":
            parts = node.module.split(".")
            found |= {parts[1]} if len(parts) > 1 else {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("ftkit.")}
    return found


def test_every_module_imports_only_those_below_it_on_the_map():
    level = {name: row for row, names in enumerate(map_rows()) for name in names}
    modules = {path.stem: path for path in PACKAGE.glob("*.py") if path.name != "__init__.py"}
    assert set(modules) | {"commands"} == set(level), "ftkit/__init__.py's map lists every module, no other"
    upward = [
        f"{path.relative_to(REPO)} imports {imported}"
        for name, path in [*modules.items(), *(("commands", p) for p in PACKAGE.glob("commands/*.py"))]
        for imported in ftkit_imports(path) - {name}
        if level[imported] <= level[name]
    ]
    assert not upward


def test_m2scorer_stays_standalone():
    assert not [path.name for path in (REPO / "m2scorer").glob("*.py") if ftkit_imports(path)]
