"""What the checks share: a stub or a crash becomes a one-line message; in IPython, the message alone."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from gcnn_edu.exercises.common import ExerciseFailed, attempt


def test_a_stub_names_the_function_that_is_not_written_yet():
    def inner(x):
        raise NotImplementedError()

    def outer(x):
        return inner(x) + 1

    with pytest.raises(ExerciseFailed, match="^inner is not written yet"):
        attempt(outer, 1)


def test_a_crash_in_the_students_code_is_one_line_naming_the_error():
    with pytest.raises(ExerciseFailed, match=r"^bad raised ZeroDivisionError: division by zero$") as info:
        attempt(lambda: 1 / 0, name="bad")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_in_a_notebook_a_failed_check_shows_its_message_without_the_checks_frames():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from gcnn_edu.exercises.groups import check_p4m_product"),
                nbformat.v4.new_code_cell("check_p4m_product(lambda a, b: a)"),
                nbformat.v4.new_code_cell("1 / 0")]
    NotebookClient(nb, allow_errors=True, kernel_name="python3").execute()
    (failed,), (other,) = nb.cells[1].outputs, nb.cells[2].outputs
    assert failed.output_type == "error" and failed.ename == "ExerciseFailed"  # still a failure for a grader
    assert "the mirrors add" in failed.evalue
    assert not any("groups.py" in line or "common.py" in line for line in failed.traceback)
    assert other.ename == "ZeroDivisionError"  # other errors keep their full traceback
    assert len(other.traceback) > len(failed.traceback)
