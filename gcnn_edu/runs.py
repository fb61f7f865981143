"""The files of a training run (Section 8): checkpoint, results.json, model.pt, and reading them back.

A run folder holds log.txt (one line per epoch), checkpoint.pt (rewritten after every epoch, for
--resume), and once training ends model.pt (the weights) and results.json (test error, history,
configuration, data, machine and versions). A run locks its folder while it writes (.lock), and
refuses a folder that holds another run unless told to resume it or to overwrite it.
"""

from __future__ import annotations

import json
import os
import pickle
import platform
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from . import __version__
from .files import locked, remove_temporaries, save_torch, write_json, write_text
from .models import MODELS, TABLE2_MODELS

CHECKPOINT, RESULTS_JSON, MODEL_PT, LOG = "checkpoint.pt", "results.json", "model.pt", "log.txt"
RUN_FILES = (CHECKPOINT, RESULTS_JSON, MODEL_PT, LOG)
CHECKPOINT_KEYS = {"config", "model", "optimizer", "state", "scheduler"}


class RunError(Exception):
    """A run folder is in the way or its files are unusable; the message names the file and why."""


@contextmanager
def claim(out: Path, resume: bool = False, overwrite: bool = False) -> Iterator[Path]:
    """Lock `out` for one run; refuse a folder holding a run unless resuming it or overwriting it."""
    with locked(out):
        remove_temporaries(out)
        found = [name for name in RUN_FILES if (out / name).exists()]
        if overwrite:
            for name in found:
                (out / name).unlink()
        elif found and not resume:
            raise RunError(f"{out} already holds a run ({', '.join(found)}): pass --resume to continue it, "
                           f"--overwrite to replace it, or choose another --out")
        elif found and CHECKPOINT not in found:
            raise RunError(f"{out} holds a run ({', '.join(found)}) but no {CHECKPOINT} to resume from: "
                           f"pass --overwrite to replace it, or choose another --out")
        yield out


def build_model(model: str, group: str = "z2", dropout: float | None = None) -> nn.Module:
    """The network named `model` (Table 2: on `group`), with `dropout` when given (Table 1)."""
    if model in TABLE2_MODELS:
        return TABLE2_MODELS[model](group)
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS) + sorted(TABLE2_MODELS)}, got {model!r}")
    return MODELS[model](**({} if dropout is None else {"dropout": dropout}))


def save_checkpoint(out: Path, config: dict, model: nn.Module, opt: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None, state: dict) -> None:
    """Everything --resume needs to continue after the last finished epoch, written atomically."""
    save_torch(out / CHECKPOINT, {
        "config": config, "model": model.state_dict(), "optimizer": opt.state_dict(), "state": state,
        "scheduler": None if scheduler is None else scheduler.state_dict()})


def load_checkpoint(out: Path, config: dict, device: torch.device) -> dict | None:
    """The checkpoint in `out`, or None when there is none; a RunError if unreadable or of another config."""
    path = out / CHECKPOINT
    if not path.exists():
        return None
    try:
        saved = torch.load(path, map_location=device, weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as err:
        first_line = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise RunError(f"{path}: not a readable checkpoint ({first_line}); pass --overwrite to start "
                       f"again") from err
    missing = sorted(CHECKPOINT_KEYS - set(saved)) if isinstance(saved, dict) else sorted(CHECKPOINT_KEYS)
    if missing:
        raise RunError(f"{path}: a checkpoint without {missing}; pass --overwrite to start again")
    if saved["config"] != config:
        raise RunError(f"--resume: {path} was written by another configuration ({saved['config']}), "
                       f"not {config}")
    return saved


def log_line(record: dict) -> str:
    """One epoch's record as a line of log.txt: epoch=3 loss=0.1234 ..."""
    return " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())


def append_log(out: Path, record: dict) -> str:
    """Append one epoch's line to log.txt (after its checkpoint is written); the line."""
    line = log_line(record)
    with (out / LOG).open("a") as f:
        print(line, file=f)
    return line


def rewrite_log(out: Path, history: list[dict]) -> None:
    """log.txt as the checkpoint's history has it (on resume: no epoch twice, none missing)."""
    write_text(out / LOG, "".join(log_line(record) + "\n" for record in history))


def save_results(out: Path, model: nn.Module, results: dict) -> None:
    """The trained weights (model.pt) and results.json, each written atomically."""
    save_torch(out / MODEL_PT, model.state_dict())
    write_json(out / RESULTS_JSON, results)


def read_results(out: Path) -> dict:
    """The results.json of a finished run."""
    return json.loads((Path(out) / RESULTS_JSON).read_text())


def load_trained(out: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """The network of a finished run (its model.pt, read with weights_only=True) and its results."""
    results = read_results(out)
    config = results["config"]
    model = build_model(config["model"], config["group"], config["dropout"])
    model.load_state_dict(torch.load(Path(out) / MODEL_PT, map_location="cpu", weights_only=True))
    return model.to(device).eval(), results


def print_table(folders: list[Path]) -> None:
    """Test errors of finished runs side by side, from their results.json."""
    print(f"{'model':<16}{'params':>8}{'epochs':>8}{'train time':>12}{'test error':>12}")
    for folder in folders:
        r = read_results(folder)
        print(f"{r['model']:<16}{r['params']:>8}{r['epochs']:>8}{r['train_time_s']:>10.0f} s"
              f"{100 * r['test_error']:>11.2f}%")


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name (from /proc/cpuinfo on Linux)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    return platform.processor() or platform.machine()


def versions() -> dict[str, str]:
    """Versions of what the result depends on."""
    return {"python": platform.python_version(), "torch": torch.__version__,
            "torchvision": torchvision.__version__, "numpy": np.__version__, "gcnn_edu": __version__}
