"""Train a network of Table 1 or 2: `python -m gcnn_edu.train --model p4cnn` (Section 8).

Table 1 (rotated MNIST): defaults follow the paper's protocol: Adam, learning rate 1e-3, batch 128,
train on all 12,000 train+valid digits, test on the 50,000 test digits; 100 epochs for the p4
networks and 300 for Z2CNN, as the original experiment code ran them. With --select-on-valid it
trains on the 10,000 train digits and keeps the weights with the lowest error on the 2,000 valid
digits.

Every epoch ends with an atomically written checkpoint, then its line in log.txt, so `--resume`
continues an interrupted run and reaches the same weights as an uninterrupted one (same seed, same
device). A folder that holds a run is refused unless `--resume` or `--overwrite` is given; a run
locks its folder while it writes. A loss that is not finite stops the run (exit code 1).

Table 2 (CIFAR-10): `--model allcnnc|resnet44 --group z2|p4|p4m --data cifar10|cifar10+|fake`. On a
GPU it trains in mixed precision (bf16 where supported, else fp16). Under `torchrun` it trains
data-parallel (DistributedDataParallel; NCCL on GPUs, gloo on CPUs): each process takes its share
of every global batch of --batch-size.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from .data import DataError, OneLineParser, os_error, provenance, random_rotation
from .datasets import DATA_SOURCES, DEFAULT_DATA, Augmentation, Images, data_names, data_source
from .evaluate import error_rate, invariance_disagreements, recompute_batch_norm
from .files import FolderInUse
from .groups import GROUPS
from .models import MODELS, TABLE2_MODELS, count_parameters
from .runs import (
    RunError,
    append_log,
    build_model,
    claim,
    device_name,
    load_checkpoint,
    rewrite_log,
    save_checkpoint,
    save_results,
    versions,
)

SCHEDULES = ("constant", "cosine")
DEVICES = ("auto", "cpu", "cuda")
SEED_LIMIT = 2**32  # seed_epoch's seeds stay within torch's 64 bits


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


class TrainingDiverged(Exception):
    """The loss or the weights stopped being finite numbers: the run cannot go on."""


def check_config(config: Config) -> None:
    """A ValueError naming the first setting of `config` that no run can have (the --option's name)."""
    table = model_table(config.model)
    if data_source(config.data).table != table:
        raise ValueError(f"--model {config.model} needs --data in {data_names(table)}, got {config.data}")
    if config.group not in GROUPS:
        raise ValueError(f"--group must be one of {sorted(GROUPS)}, got {config.group!r}")
    if table == 1 and config.group != "z2":
        raise ValueError(f"--group applies to allcnnc and resnet44; {config.model} has its group built in")
    if table == 2 and config.dropout is not None:
        raise ValueError(f"--dropout applies to the Table 1 networks; {config.model} has the paper's own")
    if table == 2 and config.select_on_valid:
        raise ValueError("--select-on-valid is for rotated MNIST (it has a validation split)")
    if table == 2 and config.augment_rotations:
        raise ValueError("--augment-rotations is for rotated MNIST; CIFAR-10+ has its own augmentation")
    _check_numbers(config)
    for name, choices in (("schedule", SCHEDULES), ("device", DEVICES)):
        if getattr(config, name) not in choices:
            raise ValueError(f"--{name} must be one of {choices}, got {getattr(config, name)!r}")
    for name in ("augment_rotations", "recompute_bn", "select_on_valid", "evaluate_test"):
        if not isinstance(getattr(config, name), bool):
            raise ValueError(f"{name} must be True or False, got {getattr(config, name)!r}")


def _check_numbers(config: Config) -> None:
    """A ValueError for epochs, batch size, seed, learning rate, weight decay or dropout out of range."""
    for name, low, high in (("epochs", 1, None), ("batch_size", 1, None), ("seed", 0, SEED_LIMIT)):
        value = getattr(config, name)
        option = f"--{name.replace('_', '-')}"
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(f"{option} must be a whole number, got {value!r}")
        if value < low:
            raise ValueError(f"{option} must be at least {low}, got {value}")
        if high is not None and value >= high:
            raise ValueError(f"{option} must be below 2**32, got {value}")
    if not (_finite(config.lr) and config.lr > 0):
        raise ValueError(f"--lr must be positive and finite, got {config.lr!r}")
    if not (_finite(config.weight_decay) and config.weight_decay >= 0):
        raise ValueError(f"--weight-decay must be finite and at least 0, got {config.weight_decay!r}")
    if config.dropout is not None and not (_finite(config.dropout) and 0 <= config.dropout < 1):
        raise ValueError(f"--dropout must be in [0, 1), got {config.dropout!r}")


def _finite(value: object) -> bool:
    """Whether `value` is a finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Process:
    """This process of a (possibly data-parallel) run: its rank among `world` processes, its device."""

    rank: int
    world: int
    device: torch.device


def default_epochs(model: str) -> int:
    """The original experiment code's epochs: 100 for the G-CNNs of Table 1, 300 for the others."""
    return 300 if model_table(model) == 2 or MODELS[model].group.trivial else 100


def model_table(model: str) -> int:
    """1 for the networks of Table 1 (rotated MNIST), 2 for those of Table 2 (CIFAR-10)."""
    if model in MODELS:
        return 1
    if model in TABLE2_MODELS:
        return 2
    raise ValueError(f"--model must be one of {sorted(MODELS) + sorted(TABLE2_MODELS)}, got {model!r}")


def resolve_device(name: str) -> torch.device:
    """'auto' -> cuda when a GPU is there, else cpu."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


def load_splits(config: Config) -> tuple[dict[str, Images], str]:
    """The datasets a run needs ('train': train or train+valid, 'valid' when selecting, 'test')."""
    source, table = data_source(config.data), model_table(config.model)
    if table == 2:
        return source.load(("train", "test"))
    train_split = "train" if config.select_on_valid else "train+valid"
    splits = (train_split, "valid", "test") if config.select_on_valid else (train_split, "test")
    data, name = source.load(splits)
    return {"train": data[train_split], **{k: v for k, v in data.items() if k != train_split}}, name


def augmentation(config: Config, train_data: Images) -> Augmentation | None:
    """The batch augmentation of a run: continuous rotations, the data's own (CIFAR-10+), or none."""
    if config.augment_rotations:
        return functools.partial(random_rotation, mean=train_data.mean, std=train_data.std)
    return data_source(config.data).augment


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """Mixed precision on CUDA: bf16 where the GPU supports it, else fp16; none on the CPU."""
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def seed_epoch(seed: int, epoch: int) -> torch.Generator:
    """Seed torch's global RNG (dropout) for this epoch; return the generator of its shuffle."""
    torch.manual_seed(seed * 100_003 + epoch)
    return torch.Generator().manual_seed(seed * 100_003 + epoch)


def make_scheduler(opt: torch.optim.Optimizer, config: Config, steps_per_epoch: int,
                   ) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Constant learning rate, or cosine decay to 1% of it over the run (stepped every batch)."""
    if config.schedule == "constant":
        return None
    total = config.epochs * steps_per_epoch
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))


@dataclass
class Step:
    """How one optimisation step runs: optimiser, schedule, augmentation, precision, data sharding."""

    opt: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    augment: Augmentation | None = None
    amp: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    rank: int = 0
    world: int = 1
    progress: bool = True


def make_step(config: Config, model: nn.Module, train_data: Images, process: Process, progress: bool) -> Step:
    """Adam (Section 8) with the run's schedule, augmentation and precision, for this process."""
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    amp = autocast_dtype(process.device)
    return Step(opt, make_scheduler(opt, config, math.ceil(len(train_data) / config.batch_size)),
                augment=augmentation(config, train_data), amp=amp, rank=process.rank, world=process.world,
                progress=progress, scaler=torch.amp.GradScaler("cuda") if amp == torch.float16 else None)


def train_epoch(model: nn.Module, data: Images, step: Step, batch_size: int, generator: torch.Generator,
                device: torch.device, desc: str) -> tuple[float, float]:
    """One pass over shuffled global batches (this process takes its share of each); loss and error."""
    model.train()
    order = torch.randperm(len(data), generator=generator)
    if step.world > 1:  # every process must take part in every step: drop a last, partial batch
        order = order[: len(order) - len(order) % batch_size]
    total_loss, wrong, seen = 0.0, 0, 0
    for batch, start in enumerate(tqdm(range(0, len(order), batch_size), desc=desc, leave=False,
                                       mininterval=1.0, disable=step.rank > 0 or not step.progress)):
        idx = order[start:start + batch_size][step.rank::step.world]
        x, y = data.images[idx], data.labels[idx].to(device)
        if step.augment is not None:
            x = step.augment(x, generator)
        with torch.autocast(device.type, dtype=step.amp, enabled=step.amp is not None):
            logits = model(x.to(device))
            loss = F.cross_entropy(logits, y)
        if not math.isfinite(loss.item()):
            raise TrainingDiverged(f"{desc}, batch {batch + 1}: the loss is {loss.item()}, training diverged "
                                   f"(try a smaller --lr); the checkpoint of the last finished epoch is kept")
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


def start_distributed(device: torch.device) -> Process:
    """This process; joins the process group when started by torchrun (WORLD_SIZE > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Process(0, 1, device)
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Process(dist.get_rank(), world, device)


def replicas_agree(model: nn.Module) -> bool:
    """Whether every process holds the same weights (a max and a min of each over the processes)."""
    for p in model.parameters():
        high, low = p.detach().clone(), p.detach().clone()
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        if not torch.equal(high, low):
            return False
    return True


def run(config: Config, out: str | os.PathLike, resume: bool = False, progress: bool = True,
        overwrite: bool = False) -> dict:
    """Train, test and write results.json, log.txt and checkpoint.pt into `out` (process 0 only).

    `out` must not hold a run, unless `resume` (continue from its checkpoint) or `overwrite` (delete it).
    """
    check_config(config)
    if not str(out).strip():
        raise ValueError("the output folder must be named, got ''")
    process = start_distributed(resolve_device(config.device))
    try:
        with claim(Path(out), resume, overwrite) if process.rank == 0 else contextlib.nullcontext():
            return _run(config, Path(out), resume, progress, process)
    finally:
        if process.world > 1:
            dist.destroy_process_group()


def _run(config: Config, out: Path, resume: bool, progress: bool, process: Process) -> dict:
    """The body of `run`, for this process; {} in every process but 0."""
    if config.batch_size % process.world:
        raise ValueError(f"--batch-size {config.batch_size} must be divisible by the {process.world} "
                         f"processes")
    data, source = load_splits(config)
    torch.manual_seed(config.seed)  # the initial weights, the same in every process
    model = build_model(config.model, config.group, config.dropout).to(process.device)
    net = DistributedDataParallel(model) if process.world > 1 else model
    step = make_step(config, model, data["train"], process, progress)
    state = start_state(config, out, model, step, process.device, resume)
    train_epochs(config, out, net, step, data, state, process.device)
    in_sync = replicas_agree(model) if process.world > 1 else True
    if process.rank > 0:
        return {}
    test_error, disagreements = final_evaluation(config, model, data, state, process.device)
    results = {
        "model": config.model, "group": config.group if config.model in TABLE2_MODELS else None,
        "params": count_parameters(model), "data": source, "train_images": len(data["train"]),
        "test_images": len(data["test"]), "config": asdict(config), "epochs": config.epochs,
        "seed": config.seed, "device": str(process.device), "device_name": device_name(process.device),
        "cpu_threads": torch.get_num_threads(), "world_size": process.world, "replicas_in_sync": in_sync,
        "mixed_precision": str(step.amp) if step.amp else None, "train_time_s": state["train_time_s"],
        "test_error": test_error, "best_valid_error": state["best_valid"], "history": state["history"],
        "versions": versions(),
    }
    if model_table(config.model) == 1:
        results["data_provenance"] = provenance(config.data)
    if disagreements is not None:
        results["rotation_disagreements"] = disagreements
    save_results(out, model, results)
    return results


def start_state(config: Config, out: Path, model: nn.Module, step: Step, device: torch.device,
                resume: bool) -> dict:
    """The training state of a new run, or (with resume) that of the checkpoint in `out`, loaded."""
    saved = load_checkpoint(out, asdict(config), device) if resume else None
    if saved is None:
        return {"epoch": 0, "history": [], "train_time_s": 0.0, "best_valid": None, "best_model": None}
    try:
        model.load_state_dict(saved["model"])
        step.opt.load_state_dict(saved["optimizer"])
        if step.scheduler is not None:
            step.scheduler.load_state_dict(saved["scheduler"])
        if step.rank == 0:
            rewrite_log(out, saved["state"]["history"])
    except (RuntimeError, KeyError, ValueError, TypeError) as err:
        raise RunError(f"{out / 'checkpoint.pt'}: does not fit {config.model} "
                       f"({str(err).strip().splitlines()[0]}); pass --overwrite to start again") from err
    return saved["state"]


def train_epochs(config: Config, out: Path, net: nn.Module, step: Step, data: dict[str, Images], state: dict,
                 device: torch.device) -> None:
    """The remaining epochs; process 0 scores the valid digits, logs and writes a checkpoint after each."""
    model = net.module if isinstance(net, DistributedDataParallel) else net
    for epoch in range(state["epoch"] + 1, config.epochs + 1):
        start = time.perf_counter()
        loss, train_error = train_epoch(net, data["train"], step, config.batch_size,
                                        seed_epoch(config.seed, epoch), device,
                                        f"{config.model} epoch {epoch}/{config.epochs}")
        state["train_time_s"] += time.perf_counter() - start
        record = {"epoch": epoch, "loss": loss, "train_error": train_error}
        if "valid" in data and step.rank == 0:
            record["valid_error"] = error_rate(model, data["valid"], device)
            keep_if_best(state, model, record["valid_error"])
        check_finite(model, epoch)
        state["history"].append(record)
        state["epoch"] = epoch
        if step.rank == 0:
            save_checkpoint(out, asdict(config), model, step.opt, step.scheduler, state)
            tqdm.write(append_log(out, record))


def check_finite(model: nn.Module, epoch: int) -> None:
    """TrainingDiverged when a weight or batch-norm statistic is no longer a finite number."""
    bad = [name for name, t in model.state_dict().items() if t.is_floating_point() and not t.isfinite().all()]
    if bad:
        raise TrainingDiverged(f"epoch {epoch}: {bad[0]} and {len(bad) - 1} more tensors are not finite, "
                               f"training diverged (try a smaller --lr)")


def keep_if_best(state: dict, model: nn.Module, valid_error: float) -> None:
    """Keep a copy of the weights when their valid error is the lowest so far (--select-on-valid)."""
    if state["best_valid"] is None or valid_error < state["best_valid"]:
        state["best_valid"] = valid_error
        state["best_model"] = {k: v.detach().clone() for k, v in model.state_dict().items()}


def final_evaluation(config: Config, model: nn.Module, data: dict[str, Images], state: dict,
                     device: torch.device) -> tuple[float | None, int | None]:
    """The kept weights (BN statistics recomputed if asked): test error, disagreements under quarter turns."""
    if state["best_model"] is not None:
        model.load_state_dict(state["best_model"])
    if config.recompute_bn:
        recompute_batch_norm(model, data["train"], device)
    if not config.evaluate_test:
        return None, None
    test_error = error_rate(model, data["test"], device)
    if model.group.rotations % 4:  # no quarter turns in the network's group (Z2CNN, z2 networks)
        return test_error, None
    return test_error, invariance_disagreements(model, data["test"], device)


def parse_args(argv: list[str] | None) -> tuple[Config, Path, bool, bool]:
    """The command line as a Config, the output folder, the resume flag and the overwrite flag."""
    p = OneLineParser(prog="python -m gcnn_edu.train", description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS) + sorted(TABLE2_MODELS), default="p4cnn")
    p.add_argument("--data", choices=tuple(DATA_SOURCES), default=None,
                   help=f"default: {DEFAULT_DATA[1]} (networks of Table 1), {DEFAULT_DATA[2]} (Table 2)")
    p.add_argument("--group", choices=sorted(GROUPS), default="z2",
                   help="the group of a Table 2 network (allcnnc, resnet44)")
    p.add_argument("--epochs", type=int, default=None,
                   help="default: 100 (the G-CNNs of Table 1), 300 (the others)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", choices=SCHEDULES, default="constant")
    p.add_argument("--dropout", type=float, default=None, help="default: the model's own")
    p.add_argument("--augment-rotations", action="store_true",
                   help="turn every training digit by a random angle in [0, 360) each time it is drawn")
    p.add_argument("--recompute-bn", action="store_true",
                   help="recompute batch-norm statistics over the training set before testing")
    p.add_argument("--select-on-valid", action="store_true",
                   help="train on 10,000 digits and keep the epoch with the lowest valid error")
    p.add_argument("--seed", type=int, default=0, help="0 <= SEED < 2**32")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--out", default=None, help="default: runs/<model>-seed<seed>")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    what.add_argument("--overwrite", action="store_true", help="delete the run in OUT and start again")
    args = p.parse_args(argv)
    if args.out is not None and not args.out.strip():
        p.error("--out must name a folder, got ''")
    epochs = default_epochs(args.model) if args.epochs is None else args.epochs
    data = DEFAULT_DATA[model_table(args.model)] if args.data is None else args.data
    name = args.model if args.model in MODELS else f"{args.model}-{args.group}"
    out = Path("runs") / f"{name}-seed{args.seed}" if args.out is None else Path(args.out)
    config = Config(model=args.model, data=data, group=args.group, epochs=epochs, batch_size=args.batch_size,
                    lr=args.lr, weight_decay=args.weight_decay, schedule=args.schedule,
                    dropout=args.dropout, augment_rotations=args.augment_rotations,
                    recompute_bn=args.recompute_bn,
                    select_on_valid=args.select_on_valid, seed=args.seed, device=args.device)
    try:
        check_config(config)
    except ValueError as err:
        p.error(str(err))
    return config, out, args.resume, args.overwrite


def check_writable(out: Path) -> None:
    """Raise OSError unless files can be created in `out` (made if missing)."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryFile(dir=out):
        pass


def fail(message: str, code: int = 2) -> int:
    """Print `error: message` as one line on stderr; the exit code."""
    print(f"error: {' '.join(message.split())}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: one-line errors with exit code 2, results on stdout."""
    config, out, resume, overwrite = parse_args(argv)
    try:
        check_writable(out)
    except OSError as err:
        print(f"error: cannot write to the output folder {out} ({err.strerror})", file=sys.stderr)
        return 2
    try:
        results = run(config, out, resume, overwrite=overwrite)
    except TrainingDiverged as err:
        return fail(str(err), code=1)
    except (DataError, RunError, FolderInUse, ValueError) as err:
        return fail(str(err))
    except OSError as err:  # a full disk, a file that cannot be read
        return fail(os_error(err))
    if not results:  # a process other than 0 of a data-parallel run
        return 0
    print(f"{config.model}: test error {100 * results['test_error']:.2f}% on "
          f"{results['test_images']} test images after {config.epochs} epochs "
          f"({results['train_time_s']:.0f} s on {results['device']}); {out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
