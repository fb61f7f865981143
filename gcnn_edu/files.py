"""Atomic writes: every file the package writes (data, checkpoints, results, tables, figures).

A file is written to a temporary file of a unique name in the same folder, flushed to disk, and renamed
over the target: a reader sees the old file or the new one, never half of one, and a failure leaves
the old file as it was and no temporary file behind. Only a kill (SIGKILL, power loss) can leave a
temporary file (.NAME.XXXX.tmp); no reader looks at one, and `remove_temporaries` deletes them at the
next start, under the folder's lock (`locked`), which also keeps two writers out of one folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from filelock import FileLock, Timeout

LOCK = ".lock"


class FolderInUse(Exception):
    """Another process holds the folder's lock: it is writing there now."""


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
        except BaseException as err:
            tmp.close()
            os.unlink(tmp.name)
            if isinstance(err, OSError) and err.filename is None:  # say which file (a full disk, say)
                raise OSError(err.errno, err.strerror or str(err), str(path)) from err
            raise
    os.replace(tmp.name, path)
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Flush a folder's entries to disk, so that a rename in it survives a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Bytes, written atomically."""
    return write_atomically(path, lambda f: f.write(data))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Text in UTF-8, written atomically."""
    return write_bytes(path, text.encode())


def write_json(path: str | os.PathLike, obj: object) -> Path:
    """Strict JSON (a NaN or infinity is a ValueError), indented by 2, with a final newline, atomically."""
    return write_text(path, json.dumps(obj, indent=2, allow_nan=False) + "\n")


def save_torch(path: str | os.PathLike, obj: object) -> Path:
    """torch.save, written atomically (a checkpoint is never half-written)."""
    return write_atomically(path, lambda f: torch.save(obj, f))


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """A compressed .npz of the arrays, written atomically."""
    return write_atomically(path, lambda f: np.savez_compressed(f, **arrays))


@contextmanager
def locked(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold `folder`/.lock (made if missing) while the body writes there; FolderInUse when another holds it.

    The lock is the operating system's (flock): it ends with its process, even one that is killed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise FolderInUse(f"{folder} is in use by another process (it holds {folder / LOCK}); wait for "
                          f"it to finish or use another folder") from None
    try:
        yield folder
    finally:
        lock.release()


def remove_temporaries(folder: str | os.PathLike) -> list[str]:
    """Delete the temporary files (and folders) that killed writes left in `folder`; their names."""
    found = sorted(Path(folder).glob(".*.tmp"))
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return [path.name for path in found]
