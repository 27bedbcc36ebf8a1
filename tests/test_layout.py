"""The shape of the code: layers that only import downwards, no import cycle, small modules."""

import ast
from pathlib import Path

import pytest

from conftest import ROOT

PACKAGE = ROOT / "deepfake_detect"
# Each layer may import from itself and the layers before it, never from a later one.
LAYERS = ["basics", "data", "models", "inference", "export", "evaluation", "cli"]
MAX_LINES = 300


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 else "basics"


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def imports(path: Path) -> set[str]:
    """The project modules a file imports, lazy imports inside functions included."""
    known = {module_name(p) for p in PACKAGE.rglob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deepfake_detect"):
            found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m in known and not (PACKAGE / m.split(".", 1)[-1].replace(".", "/")).is_dir()}


GRAPH = {module_name(p): imports(p) for p in PACKAGE.rglob("*.py")}


def test_layers_import_only_downwards():
    upward = [(m, d) for m, deps in GRAPH.items() for d in deps if LAYERS.index(layer(d)) > LAYERS.index(layer(m))]
    assert not upward, upward


def test_there_is_no_import_cycle():
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for dep in sorted(GRAPH[module]):
            if state.get(dep) == "open":
                pytest.fail(f"import cycle: {' -> '.join([*path, module, dep])}")
            if dep not in state:
                visit(dep, [*path, module])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [])


@pytest.mark.parametrize("folder", ["deepfake_detect", "stages", "serving", "tests", "benchmarks"])
def test_no_module_is_over_300_lines(folder):
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long
