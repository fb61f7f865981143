"""Speed of P4CNN against its physical limit: the same network of plain Conv2d layers (40 -> 40 channels).

Run with `make bench` (it sets the allocator variables that remove most page-fault noise). The two
candidates are timed alternately in one process, and medians are reported, with their ratio:
- a training step (forward, backward, Adam) at batch 128 on 1x28x28 digits;
- an eval-mode forward pass with the cached filter banks;
- the filter expansion of all seven layers, as a fraction of a P4CNN training step.
Writes benchmarks/results/bench_gconv.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from gcnn_edu.files import write_json
from gcnn_edu.gconv import GroupConv2d, LiftingConv2d
from gcnn_edu.models import P4CNN, count_parameters
from gcnn_edu.runs import device_name

RESULTS = Path(__file__).parent / "results" / "bench_gconv.json"


class PlainLimit(nn.Module):
    """P4CNN's skeleton with plain Conv2d layers of the expanded widths (4 x 10 = 40 channels)."""

    def __init__(self, width: int = 40) -> None:
        super().__init__()
        widths = [1] + [width] * 6
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Conv2d(a, b, 3, bias=False), nn.BatchNorm2d(b), nn.ReLU())
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.top = nn.Conv2d(width, width, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for i, block in enumerate(self.blocks):
            h = block(h)
            if i == 1:
                h = F.max_pool2d(h, 2)
        return self.top(h).unflatten(1, (10, 4)).amax(dim=(2, 3, 4))


def train_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> None:
    """One forward, backward and Adam step."""
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x), y).backward()
    opt.step()


def expand_all(model: nn.Module) -> None:
    """Build the filter bank of every G-convolution, as a training step does."""
    for layer in model.modules():
        if isinstance(layer, LiftingConv2d | GroupConv2d):
            layer.expanded_filters()


def paired_medians(candidates: dict[str, Callable[[], None]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each candidate, timed alternately (ABBA order) for `rounds` rounds."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    order = list(candidates.items())
    for i in range(rounds):
        for name, fn in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    torch.manual_seed(0)
    x = torch.randn(args.batch_size, 1, 28, 28)
    y = torch.randint(0, 10, (args.batch_size,))
    p4cnn, limit = P4CNN(), PlainLimit()
    opts = {m: torch.optim.Adam(m.parameters(), lr=1e-3) for m in (p4cnn, limit)}

    train = {"p4cnn": lambda: train_step(p4cnn, opts[p4cnn], x, y),
             "limit": lambda: train_step(limit, opts[limit], x, y),
             "expansion": lambda: expand_all(p4cnn)}
    paired_medians(train, args.warmup)
    step = paired_medians(train, args.rounds)

    p4cnn.eval()
    limit.eval()
    with torch.inference_mode():
        forward = {"p4cnn": lambda: p4cnn(x), "limit": lambda: limit(x)}
        paired_medians(forward, args.warmup)
        infer = paired_medians(forward, args.rounds)

    report = {
        "machine": {"cpu": device_name(torch.device("cpu")),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "device": "cpu"},
        "batch_size": args.batch_size, "rounds": args.rounds,
        "parameters": {"p4cnn": count_parameters(p4cnn), "limit": count_parameters(limit)},
        "train_step_s": {"p4cnn": step["p4cnn"], "limit": step["limit"]},
        "train_step_ratio": step["p4cnn"] / step["limit"],
        "eval_forward_s": infer,
        "eval_forward_ratio": infer["p4cnn"] / infer["limit"],
        "filter_expansion_s": step["expansion"],
        "filter_expansion_fraction_of_step": step["expansion"] / step["p4cnn"],
    }
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
