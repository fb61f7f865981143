"""Train a Table 1 network on rotated MNIST: `python -m gcnn_edu.train --model p4cnn` (Section 8.1).

Defaults follow the paper's protocol: Adam, learning rate 1e-3, batch 128, train on all 12,000
train+valid digits, test on the 50,000 test digits; 100 epochs for the p4 networks and 300 for
Z2CNN, as the original experiment code ran them. With --select-on-valid it trains on the 10,000
train digits and keeps the weights with the lowest error on the 2,000 valid digits.

Every epoch ends with an atomically written checkpoint, so `--resume` continues an interrupted run
and reaches the same weights as an uninterrupted one (same seed, same device).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.transforms.functional import InterpolationMode, rotate
from tqdm.auto import tqdm

from . import __version__
from .data import DataError, RotatedDigits, rotated_mnist_splits
from .models import MODELS, count_parameters

DEFAULT_EPOCHS = {"z2cnn": 300, "p4cnn": 100, "p4cnn_rotpool": 100}
CHECKPOINT = "checkpoint.pt"


@dataclass
class Config:
    """Everything that determines a run."""

    model: str = "p4cnn"
    data: str = "sample"
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    dropout: float | None = None
    recompute_bn: bool = False
    select_on_valid: bool = False
    seed: int = 0
    device: str = "auto"


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when a GPU is there, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def build_model(config: Config) -> nn.Module:
    """The network named by config.model, with config.dropout when given."""
    kwargs = {} if config.dropout is None else {"dropout": config.dropout}
    return MODELS[config.model](**kwargs)


def seed_epoch(seed: int, epoch: int) -> torch.Generator:
    """Seed torch's global RNG (dropout) for this epoch; return the generator of its shuffle."""
    torch.manual_seed(seed * 100_003 + epoch)
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def train_epoch(model: nn.Module, data: RotatedDigits, opt: torch.optim.Optimizer, scheduler,
                batch_size: int, generator: torch.Generator, device: torch.device, desc: str,
                ) -> tuple[float, float]:
    """One pass over shuffled batches; returns the mean loss and the training error."""
    model.train()
    order = torch.randperm(len(data), generator=generator)
    total_loss, wrong = 0.0, 0
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, mininterval=1.0):
        idx = order[start:start + batch_size]
        x, y = data.images[idx].to(device), data.labels[idx].to(device)
        logits = model(x)
        loss = F.cross_entropy(logits, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(idx)
        wrong += (logits.argmax(1) != y).sum().item()
    return total_loss / len(order), wrong / len(order)


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 1000,
            ) -> torch.Tensor:
    """Predicted classes for images (N, 1, 28, 28), in eval mode."""
    model.eval()
    return torch.cat([model(images[i:i + batch_size].to(device)).argmax(1).cpu()
                      for i in range(0, len(images), batch_size)])


def error_rate(model: nn.Module, data: RotatedDigits, device: torch.device) -> float:
    """Fraction of misclassified digits."""
    return (predict(model, data.images, device) != data.labels).float().mean().item()


@torch.no_grad()
def recompute_batch_norm(model: nn.Module, data: RotatedDigits, device: torch.device,
                         batch_size: int = 500) -> None:
    """Replace running batch-norm statistics by their exact average over `data` (dropout off)."""
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    model.eval()
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average over the batches below
        bn.train()
    for i in range(0, len(data), batch_size):
        model(data.images[i:i + batch_size].to(device))
    for bn in norms:
        bn.momentum = 0.1
    model.eval()


def invariance_disagreements(model: nn.Module, data: RotatedDigits, device: torch.device) -> int:
    """How many digits get a different class under one of the rotations by 90, 180, 270 degrees."""
    base = predict(model, data.images, device)
    return int(sum((predict(model, torch.rot90(data.images, r, dims=(-2, -1)), device) != base).sum()
                   for r in (1, 2, 3)))


def rotate_normalized(images: torch.Tensor, angle: float, mean: float, std: float) -> torch.Tensor:
    """Normalised digits (N, 1, H, W) turned counterclockwise by `angle` degrees.

    Quarter turns are exact (rot90); the remainder is a bilinear rotation of the raw pixels with a
    black fill, so that rotating by angle + 90 is exactly a quarter turn of rotating by angle.
    """
    quarters, rest = divmod(float(angle), 90.0)
    raw = images * std + mean
    if rest:
        raw = rotate(raw, rest, interpolation=InterpolationMode.BILINEAR)
    return (torch.rot90(raw, int(quarters) % 4, dims=(-2, -1)) - mean) / std


def accuracy_vs_angle(model: nn.Module, data: RotatedDigits, angles: list[float],
                      device: torch.device) -> list[float]:
    """Test accuracy when every digit is turned by each angle (degrees) in turn."""
    return [(predict(model, rotate_normalized(data.images, a, data.mean, data.std), device)
             == data.labels).float().mean().item() for a in angles]


def save_atomically(obj: object, path: Path) -> None:
    """torch.save through a temporary file and a rename: a checkpoint is never half-written."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        torch.save(obj, tmp)
    os.replace(tmp.name, path)


def write_json(obj: dict, path: Path) -> None:
    """JSON through a temporary file and a rename."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


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


def make_scheduler(opt: torch.optim.Optimizer, config: Config, steps_per_epoch: int):
    """Constant learning rate, or cosine decay to 1% of it over the run (stepped every batch)."""
    if config.schedule == "constant":
        return None
    total = config.epochs * steps_per_epoch
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))


def run(config: Config, out: Path, resume: bool = False) -> dict:
    """Train, test and write results.json, log.txt and checkpoint.pt into `out`."""
    device = resolve_device(config.device)
    train_split = "train" if config.select_on_valid else "train+valid"
    splits = (train_split, "valid", "test") if config.select_on_valid else (train_split, "test")
    data, source = rotated_mnist_splits(splits, config.data)
    train_data, test_data, valid_data = data[train_split], data["test"], data.get("valid")

    torch.manual_seed(config.seed)  # the initial weights
    model = build_model(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = make_scheduler(opt, config, math.ceil(len(train_data) / config.batch_size))
    state = {"epoch": 0, "history": [], "train_time_s": 0.0, "best_valid": None, "best_model": None}
    checkpoint = out / CHECKPOINT
    if resume and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=True)
        if saved["config"] != asdict(config):
            raise ValueError(f"--resume: {checkpoint} was written by another configuration "
                             f"({saved['config']}), not {asdict(config)}")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]

    log = (out / "log.txt").open("a")
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        start = time.perf_counter()
        loss, train_error = train_epoch(model, train_data, opt, scheduler, config.batch_size,
                                        seed_epoch(config.seed, epoch), device,
                                        f"{config.model} epoch {epoch}/{config.epochs}")
        state["train_time_s"] += time.perf_counter() - start
        record = {"epoch": epoch, "loss": loss, "train_error": train_error}
        if valid_data is not None:
            record["valid_error"] = error_rate(model, valid_data, device)
            if state["best_valid"] is None or record["valid_error"] < state["best_valid"]:
                state["best_valid"] = record["valid_error"]
                state["best_model"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state["history"].append(record)
        state["epoch"] = epoch
        line = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
        print(line, file=log, flush=True)
        tqdm.write(line)
        save_atomically({"config": asdict(config), "model": model.state_dict(),
                         "optimizer": opt.state_dict(), "state": state,
                         "scheduler": None if scheduler is None else scheduler.state_dict()}, checkpoint)
    log.close()

    if state["best_model"] is not None:
        model.load_state_dict(state["best_model"])
    if config.recompute_bn:
        recompute_batch_norm(model, train_data, device)
    results = {
        "model": config.model, "params": count_parameters(model), "data": source,
        "train_digits": len(train_data), "test_digits": len(test_data), "config": asdict(config),
        "epochs": config.epochs, "seed": config.seed, "device": str(device),
        "device_name": device_name(device),
        "train_time_s": state["train_time_s"], "test_error": error_rate(model, test_data, device),
        "best_valid_error": state["best_valid"], "history": state["history"], "versions": versions(),
    }
    if config.model.startswith("p4"):
        results["rotation_disagreements"] = invariance_disagreements(model, test_data, device)
    torch.save(model.state_dict(), out / "model.pt")
    write_json(results, out / "results.json")
    return results


def print_table(folders: list[Path]) -> None:
    """Test errors of finished runs side by side, from their results.json."""
    print(f"{'model':<16}{'params':>8}{'epochs':>8}{'train time':>12}{'test error':>12}")
    for folder in folders:
        r = json.loads((Path(folder) / "results.json").read_text())
        print(f"{r['model']:<16}{r['params']:>8}{r['epochs']:>8}{r['train_time_s']:>10.0f} s"
              f"{100 * r['test_error']:>11.2f}%")


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message}\n")


def parse_args(argv: list[str] | None) -> tuple[Config, Path, bool]:
    """The command line as a Config, the output folder and the resume flag."""
    p = _OneLineParser(prog="python -m gcnn_edu.train", description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="p4cnn")
    p.add_argument("--data", choices=("sample", "rotmnist"), default="sample")
    p.add_argument("--epochs", type=int, default=None, help="default: 100 (p4 networks), 300 (Z2CNN)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    p.add_argument("--dropout", type=float, default=None, help="default: the model's own")
    p.add_argument("--recompute-bn", action="store_true",
                   help="recompute batch-norm statistics over the training set before testing")
    p.add_argument("--select-on-valid", action="store_true",
                   help="train on 10,000 digits and keep the epoch with the lowest valid error")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--out", type=Path, default=None, help="default: runs/<model>-seed<seed>")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    if args.lr <= 0:
        p.error(f"--lr must be positive, got {args.lr}")
    if args.dropout is not None and not 0 <= args.dropout < 1:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    epochs = DEFAULT_EPOCHS[args.model] if args.epochs is None else args.epochs
    out = Path("runs") / f"{args.model}-seed{args.seed}" if args.out is None else args.out
    config = Config(model=args.model, data=args.data, epochs=epochs, batch_size=args.batch_size,
                    lr=args.lr, weight_decay=args.weight_decay, schedule=args.schedule,
                    dropout=args.dropout, recompute_bn=args.recompute_bn,
                    select_on_valid=args.select_on_valid, seed=args.seed, device=args.device)
    return config, out, args.resume


def check_writable(out: Path) -> None:
    """Raise OSError unless files can be created in `out` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out):
        pass


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: one-line errors with exit code 2, results on stdout."""
    config, out, resume = parse_args(argv)
    try:
        check_writable(out)
    except OSError as err:
        print(f"error: cannot write to the output folder {out} ({err.strerror})", file=sys.stderr)
        return 2
    try:
        results = run(config, out, resume)
    except (DataError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{config.model}: test error {100 * results['test_error']:.2f}% on "
          f"{results['test_digits']} digits after {config.epochs} epochs "
          f"({results['train_time_s']:.0f} s on {results['device']}); {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
