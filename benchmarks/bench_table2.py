"""Speed of the p4m ResNet44 of Table 2 against its physical limit: the same ResNet44 built from plain
Conv2d layers of the expanded widths (8 x (11, 23, 45) = 88, 184, 360 channels).

A training step (forward, backward, Adam) at batch 128 on 3x32x32 images, the two networks timed
alternately (ABBA) in one process; medians and their ratio go to benchmarks/results/bench_table2.json.
Run with `make bench` (CPU: about a minute per step; use a GPU for the real thing).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from bench_gconv import paired_medians, train_step

from gcnn_edu.files import write_json
from gcnn_edu.models import RESNET44_WIDTHS, ResNet44, count_parameters
from gcnn_edu.runs import device_name

RESULTS = Path(__file__).parent / "results" / "bench_table2.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(0)
    x = torch.randn(args.batch_size, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    expanded = tuple(8 * w for w in RESNET44_WIDTHS["p4m"])
    p4m, limit = ResNet44("p4m").to(device), ResNet44("z2", widths=expanded).to(device)
    opts = {m: torch.optim.Adam(m.parameters(), lr=1e-3) for m in (p4m, limit)}

    def step_of(model: torch.nn.Module):
        def run() -> None:
            train_step(model, opts[model], x, y)
            if device.type == "cuda":
                torch.cuda.synchronize()
        return run

    steps = {"p4m": step_of(p4m), "limit": step_of(limit)}
    paired_medians(steps, args.warmup)
    step = paired_medians(steps, args.rounds)
    report = {
        "machine": device_name(device), "torch": torch.__version__, "batch_size": args.batch_size,
        "rounds": args.rounds, "expanded_widths": expanded,
        "parameters": {"p4m": count_parameters(p4m), "limit": count_parameters(limit)},
        "train_step_s": step, "train_step_ratio": step["p4m"] / step["limit"],
    }
    write_json(RESULTS, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
