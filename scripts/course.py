"""The student edition of the course and the grading of submissions, with nbgrader (for instructors).

    python scripts/course.py student                 # build/student/*.ipynb, the edition students get
    python scripts/course.py grade SUBMISSIONS       # SUBMISSIONS/<student>/<notebook>.ipynb -> grades

The notebooks in notebooks/ are the instructor's edition: solutions between `### BEGIN SOLUTION` and
`### END SOLUTION`, checks in cells that nbgrader grades, answers in cells tagged "answer". The student
edition has the solutions replaced by stubs, the answers and every output removed, and the hidden
tests (between `### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`) taken out; nbgrader puts them back
when it grades. Each notebook is one nbgrader assignment, named after the notebook. Grading runs each
submission top to bottom in quick mode (GCNN_EDU_QUICK=1), as the tests do.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import TagRemovePreprocessor
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
COURSE_ID = "gcnn_edu"
ANSWER_TAG = "answer"  # cells with the answers to the questions: the instructor's edition only
TIMEOUT_S = 600  # per cell, when grading


def course_notebooks() -> list[Path]:
    """Every notebook of the course, in order."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def graded_cells(notebook: Path) -> dict[str, float]:
    """{grade_id: points} of the cells that nbgrader grades in one notebook."""
    cells = nbformat.read(notebook, as_version=4).cells
    return {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
            for c in cells if c.metadata.get("nbgrader", {}).get("grade")}


def nbgrader_config(course: Path) -> Config:
    """nbgrader's settings: the course folder, the answers removed, quick cells, a kernel timeout."""
    c = Config()
    c.CourseDirectory.root = str(course)
    c.CourseDirectory.course_id = COURSE_ID
    c.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = {ANSWER_TAG}
    c.GenerateAssignment.preprocessors = [  # nbgrader's own list, with the answers removed first
        TagRemovePreprocessor, IncludeHeaderFooter, InstantiateTests, LockCells, ClearSolutions,
        ClearOutput, CheckCellMetadata, ComputeChecksums, SaveCells, ClearHiddenTests, ClearMarkScheme,
        ComputeChecksums, CheckCellMetadata]
    c.Execute.timeout = TIMEOUT_S
    return c


def api(course: Path) -> NbGraderAPI:
    """nbgrader's interface to the course folder `course` (its tools, alembic among them, on PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ["PATH"].split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ["PATH"]
    config = nbgrader_config(course)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def succeed(result: dict, what: str) -> None:
    """Stop with nbgrader's log when one of its steps failed."""
    if not result["success"]:
        raise RuntimeError(f"nbgrader could not {what}:\n{result.get('log', '')}{result.get('error', '')}")


def chosen(names: list[str]) -> list[Path] | None:
    """The course's notebooks with these names (all when none is given); refuses an unknown name."""
    if not names:
        return None
    known = {p.stem: p for p in course_notebooks()}
    unknown = [n for n in names if n.removesuffix(".ipynb") not in known]
    if unknown:
        raise FileNotFoundError(f"no notebook {', '.join(unknown)} in {NOTEBOOKS}; expected one of "
                                f"{', '.join(known)}")
    return [known[n.removesuffix(".ipynb")] for n in names]


def build_student_edition(out: Path, notebooks: list[Path] | None = None) -> Path:
    """Generate the student edition of the notebooks (all by default) into out/student; returns it."""
    course, student = out / "course", out / "student"
    notebooks = course_notebooks() if notebooks is None else notebooks
    shutil.rmtree(course, ignore_errors=True)
    grader = api(course)
    for notebook in notebooks:
        source = course / "source" / notebook.stem
        source.mkdir(parents=True)
        shutil.copy2(notebook, source / notebook.name)
        succeed(grader.generate_assignment(notebook.stem), f"generate the student edition of {notebook.name}")
    student.mkdir(parents=True, exist_ok=True)
    for notebook in notebooks:
        shutil.copy2(course / "release" / notebook.stem / notebook.name, student / notebook.name)
    return student


def grade(submissions: Path, out: Path) -> list[dict]:
    """Autograde SUBMISSIONS/<student>/<notebook>.ipynb; one row per student and notebook."""
    course = out / "course"
    if not (course / "gradebook.db").exists():
        raise FileNotFoundError(f"{course / 'gradebook.db'} is missing: build the student edition first")
    students = sorted(p for p in submissions.iterdir() if p.is_dir())
    if not students:
        raise FileNotFoundError(f"{submissions} holds no folder <student>/<notebook>.ipynb")
    os.environ["GCNN_EDU_QUICK"] = "1"
    grader = api(course)
    assignments = {p.name for p in (course / "source").iterdir()}
    rows = []
    for folder in students:
        for notebook in course_notebooks():
            if notebook.stem not in assignments or not graded_cells(notebook) \
                    or not (folder / notebook.name).exists():
                continue
            target = course / "submitted" / folder.name / notebook.stem
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / notebook.name, target / notebook.name)
            succeed(grader.autograde(notebook.stem, folder.name), f"grade {folder / notebook.name}")
            rows.append(score(course, notebook.stem, folder.name))
    return rows


def score(course: Path, assignment: str, student: str) -> dict:
    """One autograded submission's marks, read from the gradebook."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", COURSE_ID) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            raise RuntimeError(f"no grade for {student}'s {assignment}") from None
        return {"student": student, "notebook": assignment, "score": submission.score,
                "max_score": submission.max_score}


def write_grades(rows: list[dict], path: Path) -> None:
    """The grades as CSV, written to a temporary file first."""
    part = path.with_name(path.name + ".part")
    with part.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", "notebook", "score", "max_score"])
        writer.writeheader()
        writer.writerows(rows)
    part.replace(path)


def main(argv: list[str] | None = None) -> int:
    """`student` builds the student edition; `grade SUBMISSIONS` grades a folder of submissions."""
    parser = argparse.ArgumentParser(prog="python scripts/course.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="build folder (default: build)")
    sub = parser.add_subparsers(dest="command", required=True)
    edition = sub.add_parser("student", help="build the student edition into OUT/student")
    edition.add_argument("notebooks", nargs="*", help="notebook names, e.g. 01_groups (default: all)")
    marks = sub.add_parser("grade", help="grade SUBMISSIONS/<student>/<notebook>.ipynb")
    marks.add_argument("submissions", type=Path)
    args = parser.parse_args(argv)
    try:
        if args.command == "student":
            print(f"student edition: {build_student_edition(args.out, chosen(args.notebooks))}")
            return 0
        rows = grade(args.submissions, args.out)
    except (FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write_grades(rows, args.out / "grades.csv")
    for row in rows:
        print(f"{row['student']:<20} {row['notebook']:<26} {row['score']:g} / {row['max_score']:g}")
    print(f"grades: {args.out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
