"""Packaging: pyproject.toml and environment.yml name the same packages; the Makefile; the module layers."""

import ast
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name
CONDA_ONLY = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    """('torch', '>=2.2') from 'torch>=2.2'."""
    name, spec = re.match(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()
    return name.lower(), spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_split(r) for r in requirements)


def _environment() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    found: dict[str, str] = {}
    for item in env["dependencies"]:
        for requirement in item["pip"] if isinstance(item, dict) else [item]:
            name, spec = _split(requirement)
            if name not in CONDA_ONLY:
                found[CONDA_NAMES.get(name, name)] = spec
    return found


def test_environment_yml_and_pyproject_agree():
    assert _environment() == _pyproject()


def test_makefile_has_the_readme_commands():
    makefile = (ROOT / "Makefile").read_text()
    readme = (ROOT / "README.md").read_text()
    for target in ("lab", "test"):
        assert re.search(rf"^{target}:", makefile, re.M)
        assert f"make {target}" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()


# The package from the bottom up: a module may import only the modules before it.
LAYERS = ["files", "rotation", "groups", "actions", "equivariance", "gconv", "pooling", "models", "viz",
          "widgets", "data", "cifar", "datasets", "evaluate", "runs", "train", "table1"]
EXERCISES = ROOT / "gcnn_edu" / "exercises"  # the checks of the notebooks' exercises: above every module


def _package_imports(path: Path, level: int = 1) -> set[str]:
    """The modules that a module imports `level` packages up (relative imports)."""
    tree = ast.parse(path.read_text())
    return {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == level and node.module}


def test_nothing_imports_upward():
    modules = {p.stem for p in (ROOT / "gcnn_edu").glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS), "a module was added or removed: place it in LAYERS"
    for name in LAYERS:
        upward = {m for m in _package_imports(ROOT / "gcnn_edu" / f"{name}.py")
                  if LAYERS.index(m) > LAYERS.index(name)}
        assert not upward, f"gcnn_edu/{name}.py imports {sorted(upward)}, which come after it"


def test_the_exercise_checks_import_only_the_package_and_their_common_module():
    for path in EXERCISES.glob("*.py"):
        assert _package_imports(path, level=1) <= {"common"}, f"{path} imports a sibling other than common"
        assert _package_imports(path, level=2) <= set(LAYERS), f"{path} imports an unknown module"
    assert _package_imports(EXERCISES / "common.py", level=2) == set()
