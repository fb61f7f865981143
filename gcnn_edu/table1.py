"""Table 1 on rotated MNIST (Section 8.1): run a protocol for one network and seed, or rebuild the table.

    python -m gcnn_edu.table1 select --candidate cosine+rotations --model p4cnn --epochs 60
    python -m gcnn_edu.table1 run --protocol paper --model p4cnn --seed 0
    python -m gcnn_edu.table1 table
    python -m gcnn_edu.table1 figure

"paper" is the protocol of the original experiment code: Adam with learning rate 1e-3, batch 128,
all 12,000 train+valid digits, 100 epochs for the p4 networks and 300 for Z2CNN, dropout 0.3 in
Z2CNN and none in the p4 networks, batch-norm statistics recomputed over the training set before
testing on the 50,000 test digits. Each run lands in results/table1/<protocol>/<model>-seed<k>/
(results.json, log.txt, model.pt); `table` prints mean +- std over seeds beside the paper's numbers
and writes results/table1/table.md. A run whose configuration is not its folder's protocol (another
number of epochs, seed, schedule, ...) is refused, never averaged in.

"ours" was chosen without the test set: each candidate of CANDIDATES trains the networks of
SELECT_MODELS on the 10,000 train digits and is scored on the 2,000 valid digits
(results/table1/selection/<epochs>-epochs/, summarised in selection.md); the candidate with the
lowest valid error averaged over CRITERION_MODELS at OURS_EPOCHS epochs, trained on all 12,000
digits, is "ours", the same for all three networks.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import statistics
import sys
from pathlib import Path

import matplotlib
import torch

from .data import DataError, OneLineParser, os_error, rotated_mnist_splits
from .evaluate import accuracy_vs_angle, error_rate, recompute_batch_norm
from .files import FolderInUse, write_atomically, write_json, write_text
from .runs import RunError, load_trained, read_results
from .train import Config, TrainingDiverged, default_epochs, fail, run

ROOT = Path(__file__).resolve().parents[1]  # the repository (the package installed editable)
RESULTS = ROOT / "results" / "table1"
README_BLOCK = re.compile(r"(<!-- table1 -->\n).*?(<!-- /table1 -->)", re.DOTALL)
PAPER_ERRORS = {"z2cnn": 5.03, "p4cnn_rotpool": 3.21, "p4cnn": 2.28}  # Table 1's test errors (%), MNIST-rot
NAMES = {"z2cnn": "Z2CNN", "p4cnn_rotpool": "P4CNNRotationPooling", "p4cnn": "P4CNN",
         "p8cnn": "P8CNN"}  # P8CNN (on C8) is beyond the paper: it has no paper error


def paper_protocol(model: str, seed: int) -> Config:
    """The original experiment code's protocol (the models' default dropout is that code's)."""
    return Config(model=model, data="rotmnist", epochs=default_epochs(model), recompute_bn=True,
                  seed=seed, device="auto")


SELECT_MODELS = ("p4cnn", "z2cnn", "p4cnn_rotpool")
CRITERION_MODELS = ("p4cnn", "z2cnn")  # the networks every candidate trained
CANDIDATES = {  # changes to the paper's protocol tried on the validation digits
    "paper": {},
    "cosine": {"schedule": "cosine", "dropout": 0.3},
    "cosine+rotations": {"schedule": "cosine", "dropout": 0.3, "augment_rotations": True},
    "cosine+rotations+dropout0.1": {"schedule": "cosine", "dropout": 0.1, "augment_rotations": True},
}
OURS = "cosine+rotations+dropout0.1"  # best_candidate at OURS_EPOCHS (selection.md)
OURS_EPOCHS = 60


def ours_protocol(model: str, seed: int) -> Config:
    """The candidate chosen on the valid digits, trained for OURS_EPOCHS epochs on all 12,000 digits."""
    return dataclasses.replace(paper_protocol(model, seed), epochs=OURS_EPOCHS, **CANDIDATES[OURS])


PROTOCOLS = {"paper": paper_protocol, "ours": ours_protocol}


def candidate_config(candidate: str, model: str, epochs: int) -> Config:
    """A candidate protocol on the train/valid split: 10,000 digits to train, 2,000 to score."""
    return dataclasses.replace(paper_protocol(model, 0), epochs=epochs, select_on_valid=True,
                               evaluate_test=False, recompute_bn=False, **CANDIDATES[candidate])


def mismatches(recorded: dict, expected: Config) -> dict[str, tuple]:
    """Settings where a run's recorded config differs from `expected`: {name: (recorded, expected)}.

    A setting that older code did not record takes Config's default, as it had then.
    """
    found = {**dataclasses.asdict(Config()), **recorded}
    return {k: (found.get(k), v) for k, v in dataclasses.asdict(expected).items() if found.get(k) != v}


def check_protocol(folder: Path, results: dict, expected: Config) -> dict:
    """The results of the run in `folder`; a RunError when it was not trained under `expected`."""
    wrong = mismatches(results.get("config", {}), expected)
    if wrong:
        said = ", ".join(f"{k} {got!r} instead of {want!r}" for k, (got, want) in wrong.items())
        raise RunError(f"{folder} is not a run of its protocol ({said}): move it out of {folder.parent}")
    return results


def folder_seed(folder: Path) -> int:
    """The seed in a run folder's name <model>-seed<k>; a RunError for another name."""
    match = re.fullmatch(r".+-seed(\d+)", folder.name)
    if match is None:
        raise RunError(f"{folder}: expected a folder named <model>-seed<k>")
    return int(match.group(1))


def finish(config: Config, out: Path) -> Path:
    """Train (resuming where a run stopped; a finished run is checked and kept), drop the checkpoint."""
    if (out / "results.json").exists():
        check_protocol(out, read_results(out), config)
        return out
    run(config, out, resume=True)
    (out / "checkpoint.pt").unlink(missing_ok=True)
    return out


def run_one(protocol: str, model: str, seed: int) -> Path:
    """Train and test one network under a protocol; returns its results folder."""
    return finish(PROTOCOLS[protocol](model, seed), RESULTS / protocol / f"{model}-seed{seed}")


def select_one(candidate: str, model: str, epochs: int) -> Path:
    """Score a candidate on the valid digits, with running and with recomputed batch-norm statistics."""
    out = finish(candidate_config(candidate, model, epochs),
                 RESULTS / "selection" / f"{epochs}-epochs" / candidate / model)
    results = read_results(out)
    splits, _ = rotated_mnist_splits(("train", "valid"), "rotmnist")
    net, _ = load_trained(out)  # the epoch with the lowest valid error under running statistics
    recompute_batch_norm(net, splits["train"], torch.device("cpu"))
    results["valid_error_recomputed_bn"] = error_rate(net, splits["valid"], torch.device("cpu"))
    write_json(out / "results.json", results)
    return out


def selection_table() -> str:
    """Markdown: each candidate's valid error (mean of the last 3 epochs; best epoch; recomputed BN)."""
    lines = ["Candidates trained on the 10,000 train digits and scored on the 2,000 valid digits "
             "(valid error, %; the test digits are never evaluated).", "",
             "| epochs | candidate | network | last 3 epochs (mean) | best epoch | best epoch, BN recomputed"
             " |",
             "|---|---|---|---|---|---|"]
    runs = selection_results()
    for candidate, r in runs:
        lines.append(f"| {r['epochs']} | {candidate} | {NAMES[r['model']]} | "
                     f"{100 * last_three(r):.2f} | {100 * r['best_valid_error']:.2f} | "
                     f"{100 * r['valid_error_recomputed_bn']:.2f} |")
    scores = selection_scores(runs)
    lines += ["", "The criterion: last-3-epochs valid error averaged over P4CNN and Z2CNN, the networks "
              "every candidate trained; the last candidate trained P4CNNRotationPooling as well.", "",
              "| epochs | candidate | mean over P4CNN, Z2CNN (%) | mean over all three (%) |",
              "|---|---|---|---|"]
    lines += [f"| {epochs} | {candidate} | {criterion(v, CRITERION_MODELS)} | "
              f"{criterion(v, SELECT_MODELS)} |" for (epochs, candidate), v in scores.items()]
    lines += ["", f"Chosen at {OURS_EPOCHS} epochs: {best_candidate(scores, OURS_EPOCHS)}."]
    return "\n".join(lines) + "\n"


def selection_results() -> list[tuple[str, dict]]:
    """(candidate, results.json) of every finished selection run, by epochs, candidate and network."""
    found = sorted((RESULTS / "selection").glob("*-epochs/*/*/results.json"),
                   key=lambda f: (int(f.parts[-4].split("-")[0]), f.parts[-3], f.parts[-2]))
    return [(f.parts[-3], check_protocol(f.parent, json.loads(f.read_text()), candidate_config(
        f.parts[-3], f.parts[-2], int(f.parts[-4].split("-")[0])))) for f in found]


def last_three(r: dict) -> float:
    """A selection run's valid error averaged over its last 3 epochs."""
    return statistics.mean(h["valid_error"] for h in r["history"][-3:])


def selection_scores(runs: list[tuple[str, dict]]) -> dict[tuple[int, str], dict[str, float]]:
    """(epochs, candidate) -> network -> last-3-epochs valid error."""
    scores: dict[tuple[int, str], dict[str, float]] = {}
    for candidate, r in runs:
        scores.setdefault((r["epochs"], candidate), {})[r["model"]] = last_three(r)
    return scores


def mean_error(errors: dict[str, float], models: tuple[str, ...]) -> float | None:
    """The mean valid error over the given networks, or None when one of them has not run."""
    if any(m not in errors for m in models):
        return None
    return statistics.mean(errors[m] for m in models)


def criterion(errors: dict[str, float], models: tuple[str, ...]) -> str:
    """mean_error in %, or a dash when one of the networks has not run."""
    mean = mean_error(errors, models)
    return "-" if mean is None else f"{100 * mean:.2f}"


def best_candidate(scores: dict[tuple[int, str], dict[str, float]], epochs: int) -> str:
    """The candidate with the lowest valid error averaged over CRITERION_MODELS at this many epochs."""
    ranked = {c: mean_error(v, CRITERION_MODELS) for (e, c), v in scores.items() if e == epochs}
    ranked = {c: m for c, m in ranked.items() if m is not None}
    if not ranked:
        raise ValueError(f"no candidate trained {' and '.join(CRITERION_MODELS)} for {epochs} epochs")
    return min(ranked, key=ranked.__getitem__)


def table() -> str:
    """Markdown table of every protocol's finished runs: mean +- std over seeds."""
    lines = ["| protocol | network | test error (%) | seeds | parameters | epochs | train time / run | "
             "device | paper (%) |", "|---|---|---|---|---|---|---|---|---|"]
    for protocol in PROTOCOLS:
        for model in NAMES:
            runs = protocol_runs(protocol, model)
            if not runs:
                continue
            errors = [100 * r["test_error"] for r in runs]
            spread = f" ± {statistics.stdev(errors):.2f}" if len(errors) > 1 else ""
            lines.append(f"| {protocol} | {NAMES[model]} | {statistics.mean(errors):.2f}{spread} | "
                         f"{len(runs)} | {runs[0]['params']:,} | {runs[0]['epochs']} | {train_time(runs)} | "
                         f"{runs[0]['device_name']} | {paper_error(model)} |")
    data = {json.loads(f.read_text())["data"] for p in PROTOCOLS for f in RESULTS.glob(f"{p}/*/results.json")}
    return "\n".join(lines) + f"\n\nData: {', '.join(sorted(data))}.\n"


def paper_error(model: str) -> str:
    """Table 1's test error of a network in %, or a note for the networks beyond the paper."""
    return f"{PAPER_ERRORS[model]:.2f}" if model in PAPER_ERRORS else "beyond the paper"


def protocol_runs(protocol: str, model: str) -> list[dict]:
    """The results of every finished run of `model` under `protocol`, each checked against it."""
    found = sorted((RESULTS / protocol).glob(f"{model}-seed*/results.json"))
    return [check_protocol(f.parent, json.loads(f.read_text()),
                           PROTOCOLS[protocol](model, folder_seed(f.parent))) for f in found]


def train_time(runs: list[dict]) -> str:
    """Mean training time per run, grouped by the CPU thread count a run recorded (none: torch's default)."""
    groups: dict[int | None, list[dict]] = {}
    for r in runs:
        groups.setdefault(r.get("cpu_threads"), []).append(r)
    parts = []
    for threads, group in sorted(groups.items(), key=lambda kv: kv[0] is not None):
        minutes = f"{statistics.mean(r['train_time_s'] for r in group) / 60:.0f} min"
        if threads is not None:
            seeds = ", ".join(str(r["seed"]) for r in group)
            minutes += f" ({threads} thread{'s' * (threads > 1)}: seed {seeds})"
        parts.append(minutes)
    return "; ".join(parts)


def publish(text: str) -> None:
    """Write table.md and put the same table into the README between its table1 markers."""
    write_text(RESULTS / "table.md", text)
    readme = ROOT / "README.md"
    updated, found = README_BLOCK.subn(lambda m: m.group(1) + text + m.group(2), readme.read_text())
    if found != 1:
        raise ValueError(f"{readme}: expected one <!-- table1 --> ... <!-- /table1 --> block, found {found}")
    write_text(readme, updated)


FIGURE_ANGLES = list(range(0, 361, 5))
FIGURE_DIGITS = 5000
FIGURE_MODELS = {"p4cnn": "C0", "z2cnn": "C1", "p8cnn": "C2"}  # seed 0 of each, where it has run


def weights_sha256(folder: Path) -> str:
    """SHA-256 of a run's model.pt: a curve computed from other weights is never reused."""
    return hashlib.sha256((folder / "model.pt").read_bytes()).hexdigest()


def known_curves(path: Path) -> dict[str, tuple[str, list[float]]]:
    """{protocol/model: (weights' SHA-256, accuracy)} of the curves a previous `figure` wrote."""
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    if old.get("angles") != FIGURE_ANGLES or old.get("digits") != FIGURE_DIGITS:
        return {}
    return {key: (old.get("weights_sha256", {}).get(key, ""), acc) for key, acc in old["accuracy"].items()}


def figure(out: Path = RESULTS / "accuracy_vs_angle.png") -> Path:
    """Accuracy against the input's rotation, seed 0 of each network per protocol (.png and .json).

    A curve whose run's weights have not changed since the last figure is reused, not recomputed.
    """
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    test = rotated_mnist_splits(("test",), "rotmnist")[0]["test"]
    known = known_curves(out.with_suffix(".json"))
    fig, ax = plt.subplots(figsize=(8, 3.8))
    curves: dict[str, list[float]] = {}
    hashes: dict[str, str] = {}
    for protocol in PROTOCOLS:
        for model, color in FIGURE_MODELS.items():
            folder = RESULTS / protocol / f"{model}-seed0"
            if not (folder / "model.pt").exists():
                continue
            key, hashes[key] = f"{protocol}/{model}", weights_sha256(folder)
            if known.get(key, ("", None))[0] == hashes[key]:
                curves[key] = known[key][1]
            else:
                net, _ = load_trained(folder)
                curves[key] = accuracy_vs_angle(net, test, FIGURE_ANGLES, torch.device("cpu"),
                                                limit=FIGURE_DIGITS)
            ax.plot(FIGURE_ANGLES, [100 * a for a in curves[key]], "--" if protocol == "paper" else "-",
                    color=color, label=f"{NAMES[model]}, {protocol}")
    ax.set(xlabel="rotation of the input (degrees, counterclockwise)", xticks=range(0, 361, 45),
           ylabel=f"accuracy on {FIGURE_DIGITS:,} test digits (%)",
           title="Synthesised RotMNIST: accuracy against the input's rotation (seed 0)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    write_atomically(out, lambda f: fig.savefig(f, format="png", dpi=120))
    write_json(out.with_suffix(".json"), {"angles": FIGURE_ANGLES, "digits": FIGURE_DIGITS,
                                          "accuracy": curves, "weights_sha256": hashes})
    return out


def main(argv: list[str] | None = None) -> int:
    """`python -m gcnn_edu.table1 run|select|table|figure`."""
    parser = OneLineParser(prog="python -m gcnn_edu.table1", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("run", help="train and test one network under a protocol")
    one.add_argument("--protocol", choices=sorted(PROTOCOLS), default="paper")
    one.add_argument("--model", choices=sorted(NAMES), required=True)
    one.add_argument("--seed", type=int, default=0)
    pick = sub.add_parser("select", help="score a candidate protocol on the valid digits")
    pick.add_argument("--candidate", choices=sorted(CANDIDATES), required=True)
    pick.add_argument("--model", choices=SELECT_MODELS, required=True)
    pick.add_argument("--epochs", type=int, default=OURS_EPOCHS)
    sub.add_parser("table", help="rebuild results/table1/table.md and the README's table")
    sub.add_parser("figure", help="draw accuracy against the input's rotation")
    args = parser.parse_args(argv)
    try:
        command(args)
    except TrainingDiverged as err:
        return fail(str(err), code=1)
    except (DataError, RunError, FolderInUse, ValueError) as err:
        return fail(str(err))
    except OSError as err:
        return fail(os_error(err))
    return 0


def command(args: argparse.Namespace) -> None:
    """Carry out one parsed command of `main`."""
    if args.command == "run":
        print(run_one(args.protocol, args.model, args.seed))
    elif args.command == "select":
        print(select_one(args.candidate, args.model, args.epochs))
        write_text(RESULTS / "selection.md", selection_table())
    elif args.command == "figure":
        print(figure())
    else:
        text = table()
        publish(text)
        print(text)


if __name__ == "__main__":
    sys.exit(main())
