"""pyproject.toml and environment.yml name the same packages; the Makefile has the two commands."""

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
