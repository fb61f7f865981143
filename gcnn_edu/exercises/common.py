"""What every check shares: its failure, calling the student's code, comparing arrays.

In a notebook a failed check shows its message alone: the frames of the check, which say nothing
about the student's code, are left out of the traceback (an IPython handler for ExerciseFailed,
registered when this module is imported in IPython).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch


class ExerciseFailed(AssertionError):
    """A check found a mistake; the message says which, in the paper's terms."""


def show_message_only(shell: Any, etype: type, value: BaseException, tb: Any,
                      tb_offset: int | None = None) -> None:
    """IPython's handler for ExerciseFailed: the error and its message, without the check's frames."""
    shell.showtraceback((etype, value, None), tb_offset=0)


def register_in_ipython() -> None:
    """Show failed checks by their message in IPython and Jupyter (nothing happens elsewhere)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        shell.set_custom_exc((ExerciseFailed,), show_message_only)


def fail(message: str) -> None:
    """Stop the check with `message` (no traceback from inside torch follows it)."""
    raise ExerciseFailed(message)


def attempt(function: Callable[..., Any], *args: Any, name: str | None = None) -> Any:
    """The student's `function(*args)`; a stub or a crash becomes an ExerciseFailed that says so."""
    name = name or getattr(function, "__name__", "your function")
    try:
        return function(*args)
    except NotImplementedError as err:
        raise ExerciseFailed(f"{raised_in(err)} is not written yet: replace `raise NotImplementedError()` "
                             "with your code, run that cell, then this one") from None
    except Exception as err:  # the student's code may raise anything; say what and where
        raise ExerciseFailed(f"{name} raised {type(err).__name__}: {err}") from None


def raised_in(err: BaseException) -> str:
    """The name of the function whose body raised `err` (the innermost frame of its traceback)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_name if tb is not None else "your function"


def expect_tensor(value: Any, shape: tuple[int, ...], name: str) -> torch.Tensor:
    """`value` as a tensor of `shape`; an ExerciseFailed naming what came instead."""
    if not isinstance(value, torch.Tensor):
        fail(f"{name} should return a torch.Tensor of shape {tuple(shape)}, got {type(value).__name__}")
    if tuple(value.shape) != tuple(shape):
        fail(f"{name} should return shape {tuple(shape)}, got {tuple(value.shape)}")
    return value


def close(got: torch.Tensor, want: torch.Tensor, tolerance: float = 1e-5) -> bool:
    """Equal up to float32 rounding: the largest difference relative to the largest value."""
    scale = want.abs().max().clamp_min(1e-12)
    return bool(((got.detach().double() - want.double()).abs().max() / scale) <= tolerance)


def passed(message: str) -> None:
    """Report a check that found nothing wrong."""
    print(f"Correct: {message}")


register_in_ipython()
