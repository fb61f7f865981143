"""The student edition (scripts/course.py, with nbgrader): no solution code in it; every check fails on
its stub with its own message and passes with the instructor's solution; the grader gives full, zero
and partial marks.

Grading executes each notebook top to bottom in quick mode; the notebooks are graded two at a time,
each in its own course folder, so that both cores work.
"""

from __future__ import annotations

import csv
import importlib.util
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("course", ROOT / "scripts" / "course.py")
course = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course)

EXERCISE_NOTEBOOKS = [nb for nb in course.course_notebooks() if course.graded_cells(nb)]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def solution_cells(notebook: Path | nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """{grade_id: cell} of the cells the student writes."""
    nb = nbformat.read(notebook, as_version=4) if isinstance(notebook, Path) else notebook
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def solution_lines(source: str) -> list[str]:
    """The stripped code lines between `### BEGIN SOLUTION` and `### END SOLUTION`."""
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif inside and line.strip() and not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


def code_lines(cells: list[nbformat.NotebookNode]) -> set[str]:
    """Every stripped line of the code cells."""
    return {line.strip() for c in cells if c.cell_type == "code" for line in c.source.splitlines()}


def run(*args: str) -> None:
    """Run scripts/course.py in quick mode; fail with its output when it fails."""
    env = {**os.environ, "GCNN_EDU_QUICK": "1"}
    env.pop("MPLBACKEND", None)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "course.py"), *args], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def edition(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student edition of every notebook."""
    out = tmp_path_factory.mktemp("edition")
    run("--out", str(out), "student")
    return out / "student"


def test_the_course_has_at_least_ten_exercises_across_notebooks_01_to_05():
    exercises = {nb.stem: len(solution_cells(nb)) for nb in EXERCISE_NOTEBOOKS}
    assert sum(n for stem, n in exercises.items() if stem[:2] <= "05") >= 10, exercises
    assert all(exercises.get(nb.stem) for nb in course.course_notebooks() if nb.stem[:2] <= "05"), exercises
    for nb in EXERCISE_NOTEBOOKS:  # every exercise has its own graded check, worth points
        assert len(course.graded_cells(nb)) >= len(solution_cells(nb)) > 0
        assert all(points > 0 for points in course.graded_cells(nb).values())


@pytest.mark.parametrize("notebook", course.course_notebooks(), ids=lambda p: p.stem)
def test_the_student_edition_holds_no_solution_code_no_answer_and_no_output(edition: Path, notebook: Path):
    instructor = nbformat.read(notebook, as_version=4)
    student = nbformat.read(edition / notebook.name, as_version=4)
    answers = [c for c in instructor.cells if course.ANSWER_TAG in c.metadata.get("tags", [])]
    solutions = solution_cells(instructor)
    # a line that also stands outside every solution and answer is not a give-away
    outside = code_lines([c for c in instructor.cells if c not in answers]) - {
        line for c in solutions.values() for line in solution_lines(c.source)}
    student_lines = code_lines(student.cells)
    for grade_id, cell in solutions.items():
        leaked = [line for line in solution_lines(cell.source)
                  if line in student_lines and line not in outside]
        assert not leaked, f"{notebook.name}: {grade_id}'s solution is in the student edition: {leaked}"
    for cell in answers:
        leaked = {line.strip() for line in cell.source.splitlines() if len(line.strip()) > 3} - outside
        assert not leaked & (student_lines | {line.strip() for c in student.cells
                                              for line in c.source.splitlines()}), notebook.name
    text = "\n".join(c.source for c in student.cells)
    assert not any(marker in text for marker in MARKERS), f"{notebook.name}: a solution or hidden test marker"
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    assert all(course.ANSWER_TAG not in c.metadata.get("tags", []) for c in student.cells)
    for grade_id in solutions:  # each exercise is there, as a stub
        stub = solution_cells(student)[grade_id].source
        assert "raise NotImplementedError()" in stub, f"{notebook.name}: {grade_id} has no stub"


def submissions(student_edition: Path, notebook: Path, partial: bool) -> Path:
    """SUBMISSIONS/<student>/<notebook>: untouched (zero), all solutions put back (full), the first
    exercise solved (partial, when asked)."""
    folder = student_edition.parent / "submissions"
    solutions = solution_cells(notebook)
    first = next(iter(solutions))
    variants = {"zero": set(), "full": set(solutions)} | ({"partial": {first}} if partial else {})
    for who, solved in variants.items():
        nb = nbformat.read(student_edition / notebook.name, as_version=4)
        for grade_id, cell in solution_cells(nb).items():
            if grade_id in solved:
                cell.source = solutions[grade_id].source
        (folder / who).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / who / notebook.name)
    return folder


def grade_notebook(notebook: Path, out: Path, partial: bool) -> Path:
    """Build one notebook's student edition in `out`, make the submissions and grade them."""
    run("--out", str(out), "student", notebook.stem)
    run("--out", str(out), "grade", str(submissions(out / "student", notebook, partial)))
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{notebook: its build folder}, every exercise notebook graded (the first one with a partial copy)."""
    root = tmp_path_factory.mktemp("grading")
    with ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {nb.stem: pool.submit(grade_notebook, nb, root / nb.stem, i == 0)
                for i, nb in enumerate(EXERCISE_NOTEBOOKS)}
        return {stem: job.result() for stem, job in jobs.items()}


def grades(out: Path) -> dict[str, tuple[float, float]]:
    """{student: (score, max_score)} from the grader's CSV."""
    with (out / "grades.csv").open() as f:
        return {row["student"]: (float(row["score"]), float(row["max_score"])) for row in csv.DictReader(f)}


def autograded(out: Path, student: str, notebook: Path) -> nbformat.NotebookNode:
    """The notebook as the grader ran it."""
    path = out / "course" / "autograded" / student / notebook.stem / notebook.name
    return nbformat.read(path, as_version=4)


def errors(cell: nbformat.NotebookNode) -> list[dict]:
    """The error outputs of a code cell."""
    return [o for o in cell.get("outputs", []) if o.output_type == "error"]


@pytest.mark.parametrize("notebook", EXERCISE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_fails_on_its_stub_with_its_own_message(graded: dict[str, Path], notebook: Path):
    nb = autograded(graded[notebook.stem], "zero", notebook)
    for cell in nb.cells:
        checks = cell.metadata.get("nbgrader", {}).get("grade")
        if cell.cell_type != "code":
            continue
        found = errors(cell)
        if checks:
            assert found, f"{notebook.name}: {cell.metadata['nbgrader']['grade_id']} passed on the stub"
            assert found[0].ename == "ExerciseFailed", (cell.source, found[0].ename, found[0].evalue)
            assert "is not written yet" in found[0].evalue, found[0].evalue
        else:  # the rest of the notebook runs with every exercise unsolved
            assert not found, f"{notebook.name}: a cell fails in the student edition:\n{cell.source}\n{found}"


@pytest.mark.parametrize("notebook", EXERCISE_NOTEBOOKS, ids=lambda p: p.stem)
def test_every_check_passes_with_the_instructors_solution_back_in_its_cell(graded: dict[str, Path],
                                                                           notebook: Path):
    nb = autograded(graded[notebook.stem], "full", notebook)
    failing = [(c.source, errors(c)[0].evalue) for c in nb.cells if c.cell_type == "code" and errors(c)]
    assert not failing, f"{notebook.name}: {failing}"


@pytest.mark.parametrize("notebook", EXERCISE_NOTEBOOKS, ids=lambda p: p.stem)
def test_the_grader_gives_full_marks_to_the_solutions_and_zero_to_the_stubs(graded: dict[str, Path],
                                                                           notebook: Path):
    marks = grades(graded[notebook.stem])
    total = sum(course.graded_cells(notebook).values())
    assert marks["full"] == (total, total)
    assert marks["zero"] == (0, total)


def test_the_grader_gives_partial_marks_to_a_copy_with_one_exercise_solved(graded: dict[str, Path]):
    notebook = EXERCISE_NOTEBOOKS[0]
    marks = grades(graded[notebook.stem])
    nb = nbformat.read(notebook, as_version=4)
    first = next(iter(solution_cells(nb)))
    # the points of the checks that run the first exercise's function (its check cells, visible or hidden)
    points = sum(c.metadata["nbgrader"]["points"] for c in nb.cells
                 if c.metadata.get("nbgrader", {}).get("grade") and f"({first})" in c.source)
    total = sum(course.graded_cells(notebook).values())
    assert 0 < points < total
    assert marks["partial"] == (points, total)
