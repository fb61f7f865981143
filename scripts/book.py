"""The course as a static website, built offline from the committed, executed notebooks.

    python scripts/book.py            # build/book/html/index.html; open it or copy the folder anywhere

The pages show the notebooks' stored outputs (nothing is re-executed), with what only the instructor
sees left out: the cells tagged "answer", the solutions of the exercises (replaced by the stub the
student edition has) and the hidden tests. The README is the front page. MathJax and the theme's
assets are copied into the site, so that it reads with no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
ANSWER_TAG = "answer"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PAGES = {"docs/conventions.md": None, "results/table1/table.md": "Table 1: the runs",
         "results/table1/selection.md": "Table 1: choosing protocol \"ours\"",
         "results/table1/accuracy_vs_angle.png": None}  # what the README links to, and the titles they lack


def course_notebooks() -> list[Path]:
    """Every notebook of the course, in order."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def display_math_as_blocks(markdown: str) -> str:
    """Blank lines around each $$ ... $$ display: MyST reads display math only as a block of its own."""
    lines, inside = [], False
    for line in markdown.splitlines():
        text = line.strip()
        opens = text.startswith("$$") and not inside
        closes = text.endswith("$$") and (inside or (opens and len(text) > 2))
        if opens and lines and lines[-1].strip():
            lines.append("")
        lines.append(line)
        inside = (inside or opens) and not closes
        if closes:
            lines.append("")
    return "\n".join(lines)


def student_page(notebook: Path) -> nbformat.NotebookNode:
    """The notebook as a student reads it: no answers, stubs for solutions, no hidden tests, no widgets."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells = [c for c in nb.cells if ANSWER_TAG not in c.metadata.get("tags", [])]
    resources: dict = {}
    for step in (ClearSolutions, ClearHiddenTests):
        nb, resources = step(config=Config()).preprocess(nb, resources)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = display_math_as_blocks(cell.source)
        if cell.metadata.get("nbgrader"):
            cell.outputs = []  # a check's output came partly from its hidden tests
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)
    nb.metadata.pop("widgets", None)
    return nb


def index_page() -> str:
    """The README with the notebooks' table of contents after it."""
    toc = "\n".join(f"notebooks/{nb.stem}" for nb in course_notebooks())
    pages = "\ndocs/conventions\nresults/table1/table\nresults/table1/selection"
    return (ROOT / "README.md").read_text() + (
        f"\n\n```{{toctree}}\n:caption: The notebooks\n:maxdepth: 1\n\n{toc}\n```\n"
        f"\n```{{toctree}}\n:caption: Reference\n:maxdepth: 1\n{pages}\n```\n")


def prepare(source: Path, assets: Path) -> None:
    """Write the site's sources (README, pages, student notebooks) and its assets (MathJax)."""
    shutil.rmtree(source, ignore_errors=True)
    (source / "notebooks").mkdir(parents=True)
    (source / "index.md").write_text(index_page())
    for page, title in PAGES.items():
        (source / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / page, source / page)
        if title:
            (source / page).write_text(f"# {title}\n\n" + (ROOT / page).read_text())
    for notebook in course_notebooks():
        nbformat.write(student_page(notebook), source / "notebooks" / notebook.name)
    shutil.rmtree(assets, ignore_errors=True)
    shutil.copytree(Path(jupyter_server_mathjax.__file__).parent / "static", assets / "mathjax")


def build(out: Path) -> Path:
    """Build the site into out/html (a fresh copy each time); returns its index.html."""
    source, assets, html = out / "src", out / "assets", out / "html"
    prepare(source, assets)
    shutil.rmtree(html, ignore_errors=True)
    env = {**os.environ, "GCNN_EDU_BOOK_ASSETS": str(assets)}
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
                           "-c", str(ROOT / "book"), str(source), str(html)], env=env)
    if done.returncode != 0:
        raise SystemExit(f"sphinx could not build the site (exit {done.returncode}); see its messages above")
    return html / "index.html"


if __name__ == "__main__":
    print(f"website: {build(ROOT / 'build' / 'book')}")
