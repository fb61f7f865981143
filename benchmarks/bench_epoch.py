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
from pathlib import Path

import torch
from bench_gconv import paired_medians, train_step

from gcnn_edu.data import rotated_mnist_splits
from gcnn_edu.files import write_json
from gcnn_edu.models import P4CNN
from gcnn_edu.runs import device_name
from gcnn_edu.train import Step, seed_epoch, train_epoch

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

    epochs = iter(range(1, 10_000))

    def pure_steps() -> None:
        for _ in range(batches):
            train_step(model, opt, x, y)

    def epoch() -> None:
        train_epoch(model, train, Step(opt), args.batch_size, seed_epoch(0, next(epochs)), cpu, "epoch")

    candidates = {"epoch": epoch, "pure_steps": pure_steps}
    paired_medians(candidates, 1)
    times = paired_medians(candidates, args.rounds)
    report = {
        "machine": device_name(cpu), "torch": torch.__version__, "data": source,
        "digits": len(train), "batches": batches, "rounds": args.rounds,
        "epoch_s": times["epoch"], "pure_steps_s": times["pure_steps"],
    }
    report["ratio"] = report["epoch_s"] / report["pure_steps_s"]
    write_json(RESULTS, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
