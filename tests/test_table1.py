"""The published Table 1: rebuilt from the committed runs, equal to the README's, test-free selection."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("table1", ROOT / "benchmarks" / "table1.py")
table1 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(table1)


def test_the_committed_table_is_rebuilt_from_the_committed_runs():
    assert table1.table() == (table1.RESULTS / "table.md").read_text()


def test_the_readme_shows_the_committed_table():
    block = table1.README_BLOCK.search((ROOT / "README.md").read_text())
    assert block is not None and (table1.RESULTS / "table.md").read_text() in block.group(0)


def test_train_time_keeps_runs_with_other_thread_counts_apart():
    runs = [{"seed": 0, "train_time_s": 600}, {"seed": 1, "train_time_s": 720},
            {"seed": 2, "train_time_s": 1080, "cpu_threads": 1},
            {"seed": 3, "train_time_s": 1200, "cpu_threads": 1}]
    assert table1.train_time(runs) == "11 min; 19 min (1 thread: seed 2, 3)"
    assert table1.train_time(runs[:2]) == "11 min"


@pytest.mark.parametrize("protocol", sorted(table1.PROTOCOLS))
def test_every_p4_run_is_exactly_invariant_to_quarter_turns(protocol):
    runs = sorted((table1.RESULTS / protocol).glob("p4cnn*-seed*/results.json"))
    assert runs, f"no p4 runs under {protocol}"
    for found in runs:
        r = json.loads(found.read_text())
        assert r["rotation_disagreements"] == 0 and r["test_images"] == 50_000, found
        assert r["train_images"] == 12_000 and r["config"]["recompute_bn"], found


@pytest.mark.parametrize("candidate", sorted(table1.CANDIDATES))
def test_selection_runs_train_on_train_and_never_test(candidate):
    config = table1.candidate_config(candidate, "p4cnn", epochs=7)
    assert config.select_on_valid and not config.evaluate_test and config.epochs == 7


def test_the_criterion_needs_every_network_it_averages():
    errors = {"p4cnn": 0.02, "z2cnn": 0.06}
    assert table1.criterion(errors, ("p4cnn", "z2cnn")) == "4.00"
    assert table1.criterion(errors, table1.SELECT_MODELS) == "-"


def test_ours_is_the_candidate_that_won_on_the_valid_digits():
    scores = table1.selection_scores(table1.selection_results())
    assert table1.best_candidate(scores, table1.OURS_EPOCHS) == table1.OURS


def test_the_best_candidate_is_the_lowest_mean_over_p4cnn_and_z2cnn():
    scores = {(60, "a"): {"p4cnn": 0.03, "z2cnn": 0.05}, (60, "b"): {"p4cnn": 0.02, "z2cnn": 0.07},
              (60, "c"): {"p4cnn": 0.01}, (30, "d"): {"p4cnn": 0.01, "z2cnn": 0.01}}
    assert table1.best_candidate(scores, 60) == "a"
    with pytest.raises(ValueError, match="for 45 epochs"):
        table1.best_candidate(scores, 45)


def test_the_figure_shows_p4cnn_with_an_exact_quarter_turn_period():
    figure = json.loads((table1.RESULTS / "accuracy_vs_angle.json").read_text())
    step = 90 // (figure["angles"][1] - figure["angles"][0])
    for name, accuracy in figure["accuracy"].items():
        if name.endswith("/p4cnn"):
            assert accuracy[:-step] == accuracy[step:], name
