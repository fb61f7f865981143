"""Table 1 on rotated MNIST: run the paper's protocol for one network and seed, or rebuild the table.

    python benchmarks/table1.py run --protocol paper --model p4cnn --seed 0
    python benchmarks/table1.py table

"paper" is the protocol of the original experiment code: Adam with learning rate 1e-3, batch 128,
all 12,000 train+valid digits, 100 epochs for the p4 networks and 300 for Z2CNN, dropout 0.3 in
Z2CNN and none in the p4 networks, batch-norm statistics recomputed over the training set before
testing on the 50,000 test digits. Each run lands in results/table1/<protocol>/<model>-seed<k>/
(results.json, log.txt, model.pt); `table` prints mean +- std over seeds beside the paper's numbers
and writes results/table1/table.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from gcnn_edu.train import DEFAULT_EPOCHS, Config, run

RESULTS = Path(__file__).resolve().parents[1] / "results" / "table1"
PAPER = {"z2cnn": 5.03, "p4cnn_rotpool": 3.21, "p4cnn": 2.28}  # test error (%), MNIST-rot
NAMES = {"z2cnn": "Z2CNN", "p4cnn_rotpool": "P4CNNRotationPooling", "p4cnn": "P4CNN"}


def paper_protocol(model: str, seed: int) -> Config:
    """The original experiment code's protocol (the models' default dropout is that code's)."""
    return Config(model=model, data="rotmnist", epochs=DEFAULT_EPOCHS[model], recompute_bn=True,
                  seed=seed, device="auto")


PROTOCOLS = {"paper": paper_protocol}


def run_one(protocol: str, model: str, seed: int) -> Path:
    """Train and test one network under a protocol; returns its results folder."""
    out = RESULTS / protocol / f"{model}-seed{seed}"
    run(PROTOCOLS[protocol](model, seed), out, resume=True)
    (out / "checkpoint.pt").unlink(missing_ok=True)
    return out


def table() -> str:
    """Markdown table of every protocol's finished runs: mean +- std over seeds."""
    lines = ["| protocol | network | test error (%) | seeds | parameters | epochs | train time / run | "
             "device | paper (%) |", "|---|---|---|---|---|---|---|---|---|"]
    for protocol in sorted(p.name for p in RESULTS.iterdir() if p.is_dir()):
        for model in NAMES:
            found = sorted((RESULTS / protocol).glob(f"{model}-seed*/results.json"))
            runs = [json.loads(f.read_text()) for f in found]
            if not runs:
                continue
            errors = [100 * r["test_error"] for r in runs]
            spread = f" ± {statistics.stdev(errors):.2f}" if len(errors) > 1 else ""
            minutes = statistics.mean(r["train_time_s"] for r in runs) / 60
            lines.append(f"| {protocol} | {NAMES[model]} | {statistics.mean(errors):.2f}{spread} | "
                         f"{len(runs)} | {runs[0]['params']:,} | {runs[0]['epochs']} | {minutes:.0f} min | "
                         f"{runs[0]['device_name']} | {PAPER[model]:.2f} |")
    data = {json.loads(f.read_text())["data"] for f in RESULTS.glob("*/*/results.json")}
    return "\n".join(lines) + f"\n\nData: {', '.join(sorted(data))}.\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run")
    one.add_argument("--protocol", choices=sorted(PROTOCOLS), default="paper")
    one.add_argument("--model", choices=sorted(NAMES), required=True)
    one.add_argument("--seed", type=int, default=0)
    sub.add_parser("table")
    args = parser.parse_args()
    if args.command == "run":
        print(run_one(args.protocol, args.model, args.seed))
    else:
        text = table()
        (RESULTS / "table.md").write_text(text)
        print(text)


if __name__ == "__main__":
    main()
