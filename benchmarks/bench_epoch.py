"""One P4CNN training epoch over the 12,000 RotMNIST training digits against its pure step time.

The pure step time is a training step on one fixed batch already in memory (as in bench_gconv.py)
times the number of batches; the epoch adds shuffling, batching and logging. Alternates the two for
a few rounds and reports medians (benchmarks/results/bench_epoch.json). Needs the full data:
`python -m gcnn_edu.data prepare`.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch

from gcnn_edu.data import rotated_mnist_splits
from gcnn_edu.models import P4CNN
from gcnn_edu.train import device_name, seed_epoch, train_epoch

RESULTS = Path(__file__).parent / "results" / "bench_epoch.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    data, source = rotated_mnist_splits(("train+valid",), "rotmnist")
    train = data["train+valid"]
    batches = math.ceil(len(train) / args.batch_size)
    cpu = torch.device("cpu")
    model = P4CNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = train.images[: args.batch_size], train.labels[: args.batch_size]

    def pure_steps() -> None:
        for _ in range(batches):
            opt.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

    def epoch(i: int) -> None:
        train_epoch(model, train, opt, None, args.batch_size, seed_epoch(0, i), cpu, "epoch")

    times: dict[str, list[float]] = {"epoch": [], "pure_steps": []}
    for i in range(args.rounds + 1):  # the first round warms up
        for name in ("epoch", "pure_steps")[:: 1 - 2 * (i % 2)]:
            start = time.perf_counter()
            epoch(i) if name == "epoch" else pure_steps()
            if i:
                times[name].append(time.perf_counter() - start)
    report = {
        "machine": device_name(cpu), "torch": torch.__version__, "data": source,
        "digits": len(train), "batches": batches, "rounds": args.rounds,
        "epoch_s": statistics.median(times["epoch"]),
        "pure_steps_s": statistics.median(times["pure_steps"]),
    }
    report["ratio"] = report["epoch_s"] / report["pure_steps_s"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    tmp = RESULTS.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2) + "\n")
    tmp.replace(RESULTS)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
