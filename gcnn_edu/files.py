"""Atomic writes: every file the package writes (data, checkpoints, results, tables, figures).

A file is written to a temporary file of a unique name in the same folder, flushed to disk, and renamed
over the target: a reader sees the old file or the new one, never half of one, and a failure leaves
the old file as it was and no temporary file behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch


def write_atomically(path: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call write(file) on a new temporary file beside `path`, fsync it, rename it to `path` (mode 0o644)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp",
                                     delete=False) as tmp:
        try:
            write(tmp)
            tmp.flush()
            os.fsync(tmp.fileno())
            os.chmod(tmp.name, 0o644)
        except BaseException:
            tmp.close()
            os.unlink(tmp.name)
            raise
    os.replace(tmp.name, path)
    return path


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Bytes, written atomically."""
    return write_atomically(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Text in UTF-8, written atomically."""
    return write_bytes(path, text.encode())


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """JSON, indented by 2, with a final newline, written atomically."""
    return write_text(path, json.dumps(obj, indent=2) + "\n")


def save_torch(path: str | os.PathLike, obj: object) -> Path:
    """torch.save, written atomically (a checkpoint is never half-written)."""
    return write_atomically(path, lambda f: torch.save(obj, f))


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """A compressed .npz of the arrays, written atomically."""
    return write_atomically(path, lambda f: np.savez_compressed(f, **arrays))
