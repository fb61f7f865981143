"""Train a network of Table 1 or 2: `python -m gcnn_edu.train --model p4cnn` (Section 8).

Table 1 (rotated MNIST): defaults follow the paper's protocol: Adam, learning rate 1e-3, batch 128,
train on all 12,000 train+valid digits, test on the 50,000 test digits; 100 epochs for the p4
networks and 300 for Z2CNN, as the original experiment code ran them. With --select-on-valid it
trains on the 10,000 train digits and keeps the weights with the lowest error on the 2,000 valid
digits.

Every epoch ends with an atomically written checkpoint, so `--resume` continues an interrupted run
and reaches the same weights as an uninterrupted one (same seed, same device).

Table 2 (CIFAR-10): `--model allcnnc|resnet44 --group z2|p4|p4m --data cifar10|cifar10+|fake`. On a
GPU it trains in mixed precision (bf16 where supported, else fp16). Under `torchrun` it trains
data-parallel (DistributedDataParallel; NCCL on GPUs, gloo on CPUs): each process takes its share
of every global batch of --batch-size.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torchvision.transforms.functional import InterpolationMode, rotate
from tqdm.auto import tqdm

from . import __version__
from .cifar import CIFAR_KINDS, cifar10_splits, flip_and_translate
from .data import DataError, RotatedDigits, random_rotation, rotated_mnist_splits
from .models import MODELS, TABLE2_MODELS, count_parameters

DEFAULT_EPOCHS = {"z2cnn": 300, "p4cnn": 100, "p4cnn_rotpool": 100, "allcnnc": 300, "resnet44": 300}
MNIST_KINDS = ("sample", "rotmnist")
CHECKPOINT = "checkpoint.pt"


@dataclass
class Config:
    """Everything that determines a run."""

    model: str = "p4cnn"
    data: str = "sample"
    group: str = "z2"
    epochs: int = 100
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    dropout: float | None = None
    augment_rotations: bool = False
    recompute_bn: bool = False
    select_on_valid: bool = False
    evaluate_test: bool = True
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
    """The network named by config.model (Table 2: on config.group), with config.dropout when given."""
    if config.model in TABLE2_MODELS:
        return TABLE2_MODELS[config.model](config.group)
    kwargs = {} if config.dropout is None else {"dropout": config.dropout}
    return MODELS[config.model](**kwargs)


def load_splits(config: Config) -> tuple[dict, str]:
    """The datasets a run needs ('train' or 'train+valid', 'valid' when selecting, 'test')."""
    if (config.data in MNIST_KINDS) != (config.model in MODELS):
        needs = MNIST_KINDS if config.model in MODELS else CIFAR_KINDS
        raise ValueError(f"--model {config.model} needs --data in {needs}, got {config.data}")
    if config.data in CIFAR_KINDS:
        if config.select_on_valid:
            raise ValueError("--select-on-valid is for rotated MNIST (it has a validation split)")
        if config.augment_rotations:
            raise ValueError("--augment-rotations is for rotated MNIST; CIFAR-10+ has its own augmentation")
        return cifar10_splits(config.data)
    train_split = "train" if config.select_on_valid else "train+valid"
    splits = (train_split, "valid", "test") if config.select_on_valid else (train_split, "test")
    data, source = rotated_mnist_splits(splits, config.data)
    return {"train": data[train_split], **{k: v for k, v in data.items() if k != train_split}}, source


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision on CUDA: bf16 where the GPU supports it, else fp16; none on the CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def seed_epoch(seed: int, epoch: int) -> torch.Generator:
    """Seed torch's global RNG (dropout) for this epoch; return the generator of its shuffle."""
    torch.manual_seed(seed * 100_003 + epoch)
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


@dataclass
class Step:
    """How one optimisation step runs: optimiser, schedule, augmentation, precision, data sharding."""

    opt: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
    amp: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    rank: int = 0
    world: int = 1
    progress: bool = True


def train_epoch(model: nn.Module, data: RotatedDigits, step: Step, batch_size: int,
                generator: torch.Generator, device: torch.device, desc: str) -> tuple[float, float]:
    """One pass over shuffled global batches (this process takes its share of each); loss and error."""
    model.train()
    order = torch.randperm(len(data), generator=generator)
    if step.world > 1:  # every process must take part in every step: drop a last, partial batch
        order = order[: len(order) - len(order) % batch_size]
    total_loss, wrong, seen = 0.0, 0, 0
    for start in tqdm(range(0, len(order), batch_size), desc=desc, leave=False, mininterval=1.0,
                      disable=step.rank > 0 or not step.progress):
        idx = order[start:start + batch_size][step.rank::step.world]
        x, y = data.images[idx], data.labels[idx].to(device)
        if step.augment is not None:
            x = step.augment(x, generator)
        with torch.autocast(device.type, dtype=step.amp, enabled=step.amp is not None):
            logits = model(x.to(device))
            loss = F.cross_entropy(logits, y)
        step.opt.zero_grad(set_to_none=True)
        if step.scaler is not None:
            step.scaler.scale(loss).backward()
            step.scaler.step(step.opt)
            step.scaler.update()
        else:
            loss.backward()
            step.opt.step()
        if step.scheduler is not None:
            step.scheduler.step()
        total_loss += loss.item() * len(idx)
        wrong += (logits.argmax(1) != y).sum().item()
        seen += len(idx)
    return total_loss / seen, wrong / seen


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, device: torch.device, batch_size: int = 500,
            ) -> torch.Tensor:
    """Predicted classes for images (N, C, H, W), in eval mode."""
    model.eval()
    return torch.cat([model(images[i:i + batch_size].to(device)).argmax(1).cpu()
                      for i in range(0, len(images), batch_size)])


def error_rate(model: nn.Module, data: RotatedDigits, device: torch.device) -> float:
    """Fraction of misclassified images."""
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
    """How many images get a different class under one of the rotations by 90, 180, 270 degrees."""
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
                      device: torch.device, limit: int | None = None) -> list[float]:
    """Accuracy on the first `limit` digits (all by default) turned by each angle (degrees) in turn."""
    images, labels = data.images[:limit], data.labels[:limit]
    return [(predict(model, rotate_normalized(images, a, data.mean, data.std), device) == labels)
            .float().mean().item() for a in angles]


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


def augmentation(config: Config, train_data: RotatedDigits,
                 ) -> Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None:
    """The batch augmentation of a run: CIFAR-10+ flips and shifts, continuous rotations, or none."""
    if config.data == "cifar10+":
        return flip_and_translate
    if config.augment_rotations:
        return functools.partial(random_rotation, mean=train_data.mean, std=train_data.std)
    return None


def start_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """Rank, world size and device of this process; joins the process group under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world, device


def replicas_agree(model: nn.Module) -> bool:
    """Whether every process holds the same weights (a max and a min of each over the processes)."""
    for p in model.parameters():
        high, low = p.detach().clone(), p.detach().clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        if not torch.equal(high, low):
            return False
    return True


def run(config: Config, out: Path, resume: bool = False, progress: bool = True) -> dict:
    """Train, test and write results.json, log.txt and checkpoint.pt into `out` (process 0 only)."""
    rank, world, device = start_distributed(resolve_device(config.device))
    try:
        return _run(config, Path(out), resume, progress, rank, world, device)
    finally:
        if world > 1:
            dist.destroy_process_group()


def _run(config: Config, out: Path, resume: bool, progress: bool, rank: int, world: int,
         device: torch.device) -> dict:
    """The body of `run`, for process `rank` of `world`."""
    if config.batch_size % world:
        raise ValueError(f"--batch-size {config.batch_size} must be divisible by the {world} processes")
    out.mkdir(parents=True, exist_ok=True)
    data, source = load_splits(config)
    train_data, test_data, valid_data = data["train"], data["test"], data.get("valid")

    torch.manual_seed(config.seed)  # the initial weights, the same in every process
    model = build_model(config).to(device)
    net = DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    amp = autocast_dtype(device)
    step = Step(opt, make_scheduler(opt, config, math.ceil(len(train_data) / config.batch_size)),
                augment=augmentation(config, train_data), amp=amp, rank=rank, world=world, progress=progress,
                scaler=torch.amp.GradScaler("cuda") if amp == torch.float16 else None)
    state = {"epoch": 0, "history": [], "train_time_s": 0.0, "best_valid": None, "best_model": None}
    checkpoint = out / CHECKPOINT
    if resume and checkpoint.exists():
        saved = torch.load(checkpoint, map_location=device, weights_only=True)
        if saved["config"] != asdict(config):
            raise ValueError(f"--resume: {checkpoint} was written by another configuration "
                             f"({saved['config']}), not {asdict(config)}")
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if step.scheduler is not None:
            step.scheduler.load_state_dict(saved["scheduler"])
        state = saved["state"]

    log = (out / "log.txt").open("a") if rank == 0 else None
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        start = time.perf_counter()
        loss, train_error = train_epoch(net, train_data, step, config.batch_size,
                                        seed_epoch(config.seed, epoch), device,
                                        f"{config.model} epoch {epoch}/{config.epochs}")
        state["train_time_s"] += time.perf_counter() - start
        record = {"epoch": epoch, "loss": loss, "train_error": train_error}
        if valid_data is not None and rank == 0:  # only process 0 selects, tests and writes
            record["valid_error"] = error_rate(model, valid_data, device)
            if state["best_valid"] is None or record["valid_error"] < state["best_valid"]:
                state["best_valid"] = record["valid_error"]
                state["best_model"] = {k: v.detach().clone() for k, v in model.state_dict().items()}
        state["history"].append(record)
        state["epoch"] = epoch
        if log is not None:
            line = " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
            print(line, file=log, flush=True)
            tqdm.write(line)
            save_atomically({"config": asdict(config), "model": model.state_dict(),
                             "optimizer": opt.state_dict(), "state": state,
                             "scheduler": None if step.scheduler is None else step.scheduler.state_dict()},
                            checkpoint)
    in_sync = replicas_agree(model) if world > 1 else True
    if log is None:
        return {}
    log.close()

    if state["best_model"] is not None:
        model.load_state_dict(state["best_model"])
    if config.recompute_bn:
        recompute_batch_norm(model, train_data, device)
    results = {
        "model": config.model, "group": config.group if config.model in TABLE2_MODELS else None,
        "params": count_parameters(model), "data": source, "train_images": len(train_data),
        "test_images": len(test_data), "config": asdict(config), "epochs": config.epochs,
        "seed": config.seed, "device": str(device), "device_name": device_name(device),
        "cpu_threads": torch.get_num_threads(), "world_size": world, "replicas_in_sync": in_sync,
        "mixed_precision": str(amp) if amp else None,
        "train_time_s": state["train_time_s"],
        "test_error": error_rate(model, test_data, device) if config.evaluate_test else None,
        "best_valid_error": state["best_valid"], "history": state["history"], "versions": versions(),
    }
    if config.evaluate_test and (config.model.startswith("p4") or config.group in ("p4", "p4m")):
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


def load_trained(out: Path, device: torch.device | str = "cpu") -> tuple[nn.Module, dict]:
    """The network of a finished run (its model.pt, read with weights_only=True) and its results."""
    results = json.loads((Path(out) / "results.json").read_text())
    model = build_model(Config(**results["config"]))
    model.load_state_dict(torch.load(Path(out) / "model.pt", map_location="cpu", weights_only=True))
    return model.to(device).eval(), results


class _OneLineParser(argparse.ArgumentParser):
    """argparse whose errors are one line and exit code 2."""

    def error(self, message: str) -> None:
        self.exit(2, f"error: {message}\n")


def parse_args(argv: list[str] | None) -> tuple[Config, Path, bool]:
    """The command line as a Config, the output folder and the resume flag."""
    p = _OneLineParser(prog="python -m gcnn_edu.train", description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS) + sorted(TABLE2_MODELS), default="p4cnn")
    p.add_argument("--data", choices=MNIST_KINDS + CIFAR_KINDS, default=None,
                   help="default: sample for Table 1 networks, cifar10 for Table 2 networks")
    p.add_argument("--group", choices=("z2", "p4", "p4m"), default="z2",
                   help="the group of a Table 2 network (allcnnc, resnet44)")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: 100 (p4 networks of Table 1), 300 (the others)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=("constant", "cosine"), default="constant")
    p.add_argument("--dropout", type=float, default=None, help="default: the model's own")
    p.add_argument("--augment-rotations", action="store_true",
                   help="turn every training digit by a random angle in [0, 360) each time it is drawn")
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
    if args.model in TABLE2_MODELS and args.dropout is not None:
        p.error(f"--dropout applies to the Table 1 networks; {args.model} has the paper's own")
    if args.model in MODELS and args.group != "z2":
        p.error(f"--group applies to allcnnc and resnet44; {args.model} has its group built in")
    epochs = DEFAULT_EPOCHS[args.model] if args.epochs is None else args.epochs
    data = ("sample" if args.model in MODELS else "cifar10") if args.data is None else args.data
    name = args.model if args.model in MODELS else f"{args.model}-{args.group}"
    out = Path("runs") / f"{name}-seed{args.seed}" if args.out is None else args.out
    config = Config(model=args.model, data=data, group=args.group, epochs=epochs, batch_size=args.batch_size,
                    lr=args.lr, weight_decay=args.weight_decay, schedule=args.schedule,
                    dropout=args.dropout, augment_rotations=args.augment_rotations,
                    recompute_bn=args.recompute_bn,
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
    if not results:  # a process other than 0 of a data-parallel run
        return 0
    print(f"{config.model}: test error {100 * results['test_error']:.2f}% on "
          f"{results['test_images']} test images after {config.epochs} epochs "
          f"({results['train_time_s']:.0f} s on {results['device']}); {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
