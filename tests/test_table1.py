"""The published Table 1: rebuilt from the committed runs, equal to the README's, test-free selection."""

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from gcnn_edu import table1
from gcnn_edu.models import P4CNN, Z2CNN
from gcnn_edu.runs import save_results
from gcnn_edu.train import Config

ROOT = Path(__file__).resolve().parents[1]


def test_the_committed_table_is_rebuilt_from_the_committed_runs():
    assert table1.table() == (table1.RESULTS / "table.md").read_text()


def test_the_readme_shows_the_committed_table():
    block = table1.README_BLOCK.search((ROOT / "README.md").read_text())
    assert block is not None and (table1.RESULTS / "table.md").read_text() in block.group(0)


def test_the_table_command_rewrites_table_and_readme_unchanged(tmp_path, monkeypatch, capsys):
    """`python -m gcnn_edu.table1 table`, on copies of the committed runs and README."""
    shutil.copytree(table1.RESULTS, tmp_path / "results" / "table1", ignore=shutil.ignore_patterns("*.pt"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(table1, "ROOT", tmp_path)
    monkeypatch.setattr(table1, "RESULTS", tmp_path / "results" / "table1")
    assert table1.main(["table"]) == 0
    assert (tmp_path / "README.md").read_bytes() == (ROOT / "README.md").read_bytes()
    assert (tmp_path / "results" / "table1" / "table.md").read_bytes() == \
        (table1.RESULTS / "table.md").read_bytes()
    assert capsys.readouterr().out.startswith("| protocol | network | test error (%) |")


def test_a_readme_without_the_markers_is_refused(tmp_path, monkeypatch):
    (tmp_path / "README.md").write_text("no table here\n")
    monkeypatch.setattr(table1, "ROOT", tmp_path)
    monkeypatch.setattr(table1, "RESULTS", tmp_path)
    with pytest.raises(ValueError, match="expected one <!-- table1 --> ... <!-- /table1 --> block, found 0"):
        table1.publish("| table |\n")
    assert (tmp_path / "README.md").read_text() == "no table here\n"


def test_every_row_quotes_the_papers_error_of_its_network():
    rows = [line.split(" | ") for line in table1.table().splitlines() if line.startswith("| paper |")
            or line.startswith("| ours |")]
    assert len(rows) == 7
    names = {name: model for model, name in table1.NAMES.items()}
    paper = [row for row in rows if names[row[1]] in table1.PAPER_ERRORS]
    assert len(paper) == 6
    assert all(float(row[-1].rstrip(" |")) == table1.PAPER_ERRORS[names[row[1]]] for row in paper)
    beyond = [row for row in rows if row not in paper]  # P8CNN, under "ours" only
    assert [(row[0], row[1], row[-1].rstrip(" |")) for row in beyond] == [
        ("| ours", "P8CNN", "beyond the paper")]
    assert table1.PAPER_ERRORS == {"z2cnn": 5.03, "p4cnn_rotpool": 3.21, "p4cnn": 2.28}


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
    assert figure["angles"] == table1.FIGURE_ANGLES and figure["digits"] == table1.FIGURE_DIGITS
    assert set(figure["accuracy"]) == {f"{p}/{m}" for p in table1.PROTOCOLS for m in ("p4cnn", "z2cnn")} | {
        "ours/p8cnn"}
    assert figure["weights_sha256"] == {key: table1.weights_sha256(table1.RESULTS / f"{key}-seed0")
                                        for key in figure["accuracy"]}
    step = 90 // (figure["angles"][1] - figure["angles"][0])
    for protocol in table1.PROTOCOLS:
        p4cnn, z2cnn = (figure["accuracy"][f"{protocol}/{m}"] for m in ("p4cnn", "z2cnn"))
        assert len(p4cnn) == len(figure["angles"]) and p4cnn[:-step] == p4cnn[step:], protocol
        assert z2cnn[:-step] != z2cnn[step:], protocol  # a planar CNN has no such period
    p8cnn = figure["accuracy"]["ours/p8cnn"]  # C8 holds the quarter turns exactly too
    assert len(p8cnn) == len(figure["angles"]) and p8cnn[:-step] == p8cnn[step:]



def test_the_figure_is_drawn_from_the_seed_0_runs(tmp_path, monkeypatch, sample_test):
    """figure() on untrained P4CNN and Z2CNN "runs" and the sample's test digits, at a few angles."""
    for model, network in (("p4cnn", P4CNN), ("z2cnn", Z2CNN)):
        torch.manual_seed(0)
        save_results(tmp_path / "ours" / f"{model}-seed0", network(), {"config": asdict(Config(model=model))})
    monkeypatch.setattr(table1, "RESULTS", tmp_path)
    monkeypatch.setattr(table1, "FIGURE_ANGLES", [0, 30, 90, 120])
    monkeypatch.setattr(table1, "rotated_mnist_splits", lambda splits, kind: ({"test": sample_test}, kind))
    out = table1.figure(tmp_path / "figure.png")
    assert out.read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in tmp_path.glob("figure*")) == ["figure.json", "figure.png"]
    curves = json.loads((tmp_path / "figure.json").read_text())
    assert sorted(curves["accuracy"]) == ["ours/p4cnn", "ours/z2cnn"] and curves["angles"] == [0, 30, 90, 120]
    p4cnn = curves["accuracy"]["ours/p4cnn"]
    assert p4cnn[0] == p4cnn[2] and p4cnn[1] == p4cnn[3]  # exact quarter turns: the same accuracy


def test_the_figure_reuses_a_curve_only_while_its_weights_are_unchanged(tmp_path, monkeypatch, sample_test):
    torch.manual_seed(0)
    save_results(tmp_path / "ours" / "p4cnn-seed0", P4CNN(), {"config": asdict(Config(model="p4cnn"))})
    monkeypatch.setattr(table1, "RESULTS", tmp_path)
    monkeypatch.setattr(table1, "FIGURE_ANGLES", [0, 45])
    monkeypatch.setattr(table1, "rotated_mnist_splits", lambda splits, kind: ({"test": sample_test}, kind))
    computed = []
    real = table1.accuracy_vs_angle
    monkeypatch.setattr(table1, "accuracy_vs_angle", lambda *a, **k: computed.append(1) or real(*a, **k))
    first = table1.figure(tmp_path / "figure.png")
    table1.figure(tmp_path / "figure.png")
    assert len(computed) == 1  # the second figure reused the curve
    torch.manual_seed(1)
    save_results(tmp_path / "ours" / "p4cnn-seed0", P4CNN(), {"config": asdict(Config(model="p4cnn"))})
    table1.figure(first)
    assert len(computed) == 2  # new weights: computed again


@pytest.fixture
def results_copy(tmp_path, monkeypatch):
    """The committed runs (no weights), README and table in a folder of their own, as table1 sees them."""
    shutil.copytree(table1.RESULTS, tmp_path / "results" / "table1", ignore=shutil.ignore_patterns("*.pt"))
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    monkeypatch.setattr(table1, "ROOT", tmp_path)
    monkeypatch.setattr(table1, "RESULTS", tmp_path / "results" / "table1")
    return tmp_path / "results" / "table1"


def test_the_committed_runs_are_each_of_their_protocol():
    """Older code recorded fewer settings; those it lacks take Config's defaults, as they had then."""
    for protocol in table1.PROTOCOLS:
        for model in table1.NAMES:  # P8CNN, beyond the paper, runs under "ours" only
            expected = 0 if (protocol, model) == ("paper", "p8cnn") else 3
            assert len(table1.protocol_runs(protocol, model)) == expected, (protocol, model)
    assert len(table1.selection_results()) == 13


@pytest.mark.parametrize("folder, changes, message", [
    ("p4cnn-seed3", {"epochs": 1, "seed": 3}, "epochs 1 instead of 100"),
    ("p4cnn-seed4", {"seed": 0}, "seed 0 instead of 4"),
    ("z2cnn-seed5", {"schedule": "cosine", "seed": 5}, "schedule 'cosine' instead of 'constant'"),
])
def test_a_stray_run_in_a_table_folder_is_refused(results_copy, capsys, folder, changes, message):
    stray = json.loads((results_copy / "paper" / "p4cnn-seed0" / "results.json").read_text())
    stray["config"] = {**stray["config"], "model": folder.split("-")[0], **changes}
    (results_copy / "paper" / folder).mkdir()
    (results_copy / "paper" / folder / "results.json").write_text(json.dumps(stray))
    readme = (results_copy.parents[1] / "README.md").read_bytes()
    assert table1.main(["table"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {results_copy / 'paper' / folder} is not a run of its protocol")
    assert message in err and err.count("\n") == 1
    assert (results_copy.parents[1] / "README.md").read_bytes() == readme  # no row rewritten


def test_finish_refuses_a_finished_run_of_another_protocol(results_copy):
    folder = results_copy / "paper" / "z2cnn-seed0"
    with pytest.raises(table1.RunError, match="z2cnn-seed0 is not a run of its protocol"):
        table1.finish(table1.ours_protocol("z2cnn", 0), folder)
    assert table1.finish(table1.paper_protocol("z2cnn", 0), folder) == folder


def test_mismatches_fill_in_the_settings_older_code_did_not_record():
    old = asdict(table1.paper_protocol("p4cnn", 0))
    del old["evaluate_test"], old["augment_rotations"]
    assert table1.mismatches(old, table1.paper_protocol("p4cnn", 0)) == {}
    assert table1.mismatches(old, table1.ours_protocol("p4cnn", 0))["epochs"] == (100, 60)
