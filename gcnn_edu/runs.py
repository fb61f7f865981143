"""The files of a training run (Section 8): checkpoint, results.json, model.pt, and reading them back.

A run folder holds log.txt (one line per epoch), checkpoint.pt (rewritten after every epoch, for
--resume), and once training ends model.pt (the weights) and results.json (test error, history,
configuration, machine and versions).
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import numpy as np
import torch
import torchvision
from torch import nn

from . import __version__
from .files import save_torch, write_json
from .models import MODELS, TABLE2_MODELS

CHECKPOINT, RESULTS_JSON, MODEL_PT, LOG = "checkpoint.pt", "results.json", "model.pt", "log.txt"


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
    """The checkpoint in `out`, or None when there is none; a ValueError when another config wrote it."""
    path = out / CHECKPOINT
    if not path.exists():
        return None
    saved = torch.load(path, map_location=device, weights_only=True)
    if saved["config"] != config:
        raise ValueError(f"--resume: {path} was written by another configuration ({saved['config']}), "
                         f"not {config}")
    return saved


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
