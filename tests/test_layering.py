"""Who may import whom (issue 13): read from the source with `ast`, lazy imports inside functions
included, so that a hidden upward import fails here rather than in a reviewer's head.

    layers/            the kinds and what they are made of: nothing above them (no spec, render,
                       engine, report, cli, catalog, conventions, ...)
    layers/<family>    a family (conv, pooling, ...) imports only the lower layers modules, never
                       another family
    render/            formats what it is given: no engine, spec loading, cli, catalog or
                       conventions (render/conventions.py excepted: rendering them is its job)
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from paramcalc.cli import cli
from paramcalc.layers.registry import FAMILIES
from tests.conftest import ROOT, SPECS

PACKAGE = ROOT / "paramcalc"
LAYERS_MAY_IMPORT = ("paramcalc.layers", "paramcalc.errors", "paramcalc.record", "paramcalc.suggest",
                     "paramcalc.names")
LOWER_LAYERS = {f"paramcalc.layers.{m}"
                for m in ("base", "args", "formula", "ops", "shapes", "registry", "sym", "traits")}
RENDER_MAY_NOT_IMPORT = ("paramcalc.engine", "paramcalc.spec", "paramcalc.cli", "paramcalc.conventions",
                         "paramcalc.catalog", "paramcalc.layers.registry")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (names for type hints, never imported)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports(path: Path) -> set[str]:
    """Every paramcalc module `path` imports when it runs, at the top or inside a function."""
    found = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            # `from paramcalc.layers import sym` imports a module; `from paramcalc.layers import Context` a name
            found |= {f"{node.module}.{a.name}" if (PACKAGE / Path(*node.module.split(".")[1:]) /
                                                    f"{a.name}.py").is_file() else node.module for a in node.names}
    return {name for name in found if name == "paramcalc" or name.startswith("paramcalc.")}


def under(name: str, prefixes: tuple[str, ...] | set[str]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
LAYERS = [m for m in MODULES if m.startswith("paramcalc.layers")]
FAMILY_MODULES = [f"paramcalc.layers.{family}" for family in FAMILIES]
RENDER = [m for m in MODULES if m.startswith("paramcalc.render") and m != "paramcalc.render.conventions"]


@pytest.mark.parametrize("module", LAYERS)
def test_layers_import_nothing_above_them(module):
    upward = {name for name in imports(MODULES[module]) if not under(name, LAYERS_MAY_IMPORT)}
    assert not upward, f"{module} imports {sorted(upward)}"


@pytest.mark.parametrize("module", FAMILY_MODULES)
def test_families_import_only_the_lower_layers_modules(module):
    layers = {name for name in imports(MODULES[module]) if under(name, ("paramcalc.layers",))}
    others = layers - LOWER_LAYERS
    assert not others, f"{module} imports {sorted(others)}: shared helpers belong in layers/shapes.py or base.py"


@pytest.mark.parametrize("module", RENDER)
def test_renderers_only_format(module):
    upward = {name for name in imports(MODULES[module]) if under(name, RENDER_MAY_NOT_IMPORT)}
    assert not upward, f"{module} imports {sorted(upward)}"


def test_the_spec_expander_names_layers_without_layers():
    assert not {n for n in imports(MODULES["paramcalc.spec.expand"]) if under(n, ("paramcalc.layers",))}


def test_the_import_reader_sees_lazy_imports():
    # cli.py imports nearly everything inside its commands: a reader that saw only the top would miss them.
    assert {"paramcalc.engine", "paramcalc.catalog", "paramcalc.render.layers"} <= imports(MODULES["paramcalc.cli"])


def test_the_table_footer_names_the_convention_s_tool_it_is_given():
    # render/table.py no longer looks the tool up in conventions.py: the command passes it in.
    result = CliRunner().invoke(cli, ["summary", str(SPECS / "lenet5.yaml"), "--convention", "fvcore"])
    assert result.exit_code == 0, result.output
    assert "Total MACs (fvcore): " in result.stdout
    assert "(as fvcore FlopCountAnalysis counts)" in result.stdout
