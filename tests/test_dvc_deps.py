"""Each DVC stage lists exactly the code it runs, so a code change re-runs exactly the stages it affects."""

import ast
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def imported_modules(path: Path) -> set[str]:
    """Project modules imported anywhere in a file, lazy imports inside functions included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("deepfake_detect"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("deepfake_detect"))
    return {m for m in found if (ROOT / (m.replace(".", "/") + ".py")).exists()}


def code_closure(module_file: Path) -> set[str]:
    seen, todo = set(), [module_file]
    while todo:
        path = todo.pop()
        for module in imported_modules(path):
            rel = module.replace(".", "/") + ".py"
            if rel not in seen:
                seen.add(rel)
                todo.append(ROOT / rel)
    return seen


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_are_its_module_and_the_library_modules_it_uses(stage):
    spec = STAGES[stage]
    module = spec["cmd"].split("-m ")[1].strip().replace(".", "/") + ".py"
    listed = {d for d in spec["deps"] if d.endswith(".py")}
    assert listed == {module} | code_closure(ROOT / module)
