"""A run's settings, its folder and its files: nothing silently wrong, nothing lost.

Settings no run can have are refused before training; a folder holding a run is refused unless the
run is resumed or overwritten, and locked while a run writes; a diverging run stops; an unreadable
checkpoint or a full disk is named in one line; an interrupted save leaves nothing that misleads.
"""

import dataclasses
import json
import stat

import pytest
import torch

from gcnn_edu import files, train
from gcnn_edu.files import FolderInUse, locked
from gcnn_edu.runs import RunError, log_line
from gcnn_edu.train import Config, TrainingDiverged, check_config, run

Z2 = Config(model="z2cnn", epochs=1, device="cpu")
TWO_EPOCHS = dataclasses.replace(Z2, epochs=2)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished 2-epoch run of Z2CNN on the sample (read only: copy it to change it)."""
    out = tmp_path_factory.mktemp("finished")
    return out, run(TWO_EPOCHS, out, progress=False)


def copy_run(source, target):
    target.mkdir(parents=True, exist_ok=True)
    for name in ("checkpoint.pt", "log.txt", "model.pt", "results.json"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


# ---------------------------------------------------------------------------------------------
# Settings


@pytest.mark.parametrize("changes, message", [
    ({"model": "P4CNN"}, r"--model must be one of \[.*\], got 'P4CNN'"),
    ({"schedule": "Cosine"}, r"--schedule must be one of \('constant', 'cosine'\), got 'Cosine'"),
    ({"epochs": 0}, "--epochs must be at least 1, got 0"),
    ({"epochs": 2.5}, "--epochs must be a whole number, got 2.5"),
    ({"batch_size": 0}, "--batch-size must be at least 1, got 0"),
    ({"lr": float("inf")}, "--lr must be positive and finite, got inf"),
    ({"lr": float("nan")}, "--lr must be positive and finite, got nan"),
    ({"lr": 0.0}, "--lr must be positive and finite, got 0.0"),
    ({"weight_decay": -1e-4}, "--weight-decay must be finite and at least 0"),
    ({"dropout": float("nan")}, r"--dropout must be in \[0, 1\), got nan"),
    ({"dropout": 1.0}, r"--dropout must be in \[0, 1\), got 1.0"),
    ({"seed": 2**64}, r"--seed must be below 2\*\*32, got 18446744073709551616"),
    ({"seed": -1}, "--seed must be at least 0, got -1"),
    ({"device": "gpu"}, r"--device must be one of \('auto', 'cpu', 'cuda'\), got 'gpu'"),
    ({"group": "p4"}, "--group applies to allcnnc and resnet44; z2cnn has its group built in"),
    ({"data": "cifar10"}, r"--model z2cnn needs --data in \('sample', 'rotmnist'\), got cifar10"),
    ({"recompute_bn": "yes"}, "recompute_bn must be True or False, got 'yes'"),
])
def test_run_refuses_settings_no_run_can_have(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message):
        run(dataclasses.replace(Z2, **changes), tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("args, message", [
    (["--lr", "inf"], "error: --lr must be positive and finite, got inf"),
    (["--lr", "nan"], "error: --lr must be positive and finite, got nan"),
    (["--seed", str(2**64)], "error: --seed must be below 2**32, got 18446744073709551616"),
    (["--weight-decay", "-1"], "error: --weight-decay must be finite and at least 0, got -1.0"),
    (["--out", ""], "error: --out must name a folder, got ''"),
    (["--resume", "--overwrite"], "error: argument --overwrite: not allowed with argument --resume"),
])
def test_the_command_line_refuses_bad_settings_in_one_line(tmp_path, monkeypatch, train_cli, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = train_cli("--model", "z2cnn", "--epochs", "1", *args)
    assert (code, err) == (2, message + "\n") and out == ""
    assert list(tmp_path.iterdir()) == []  # nothing written to the current folder


def test_an_empty_output_folder_is_refused_by_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="the output folder must be named, got ''"):
        run(Z2, "", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_the_paper_settings_pass():
    check_config(Config(model="p4cnn", data="rotmnist", recompute_bn=True))
    check_config(Config(model="allcnnc", group="p4m", data="cifar10+", epochs=300, seed=2**32 - 1))


# ---------------------------------------------------------------------------------------------
# Divergence


def test_a_diverging_run_stops_with_exit_code_1_and_writes_no_results(tmp_path, train_cli):
    with pytest.raises(TrainingDiverged, match=r"z2cnn epoch 1/1, batch \d+: the loss is nan, training"):
        run(dataclasses.replace(Z2, lr=1e12), tmp_path / "api", progress=False)
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--lr", "1e12", "--out",
                             str(tmp_path / "cli"))
    assert code == 1 and err.count("\n") == 1 and "training diverged (try a smaller --lr)" in err
    for out in (tmp_path / "api", tmp_path / "cli"):
        assert not (out / "results.json").exists() and not (out / "model.pt").exists()


def test_weights_that_are_no_longer_finite_stop_the_run():
    model = torch.nn.Linear(2, 2)
    train.check_finite(model, 1)
    with torch.no_grad():
        model.bias[0] = float("inf")
    with pytest.raises(TrainingDiverged, match="epoch 3: bias and 0 more tensors are not finite"):
        train.check_finite(model, 3)


def test_results_json_is_strict_json(finished):
    out, _ = finished
    json.loads((out / "results.json").read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))


# ---------------------------------------------------------------------------------------------
# The run folder


@pytest.mark.parametrize("files_there", [
    ("results.json", "model.pt", "log.txt", "checkpoint.pt"),  # a finished run
    ("checkpoint.pt", "log.txt"),  # an interrupted one
    ("log.txt",),
])
def test_a_folder_holding_a_run_is_refused_without_resume(tmp_path, files_there):
    for name in files_there:
        (tmp_path / name).write_text(name)
    with pytest.raises(RunError, match=r"already holds a run \(.*\): pass --resume to continue it"):
        run(Z2, tmp_path, progress=False)
    assert all((tmp_path / name).read_text() == name for name in files_there)


def test_resume_without_a_checkpoint_refuses_to_start_over(tmp_path, train_cli):
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "model.pt").write_text("weights")
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path), "--resume")
    assert code == 2 and "holds a run (results.json, model.pt) but no checkpoint.pt to resume from" in err
    assert (tmp_path / "model.pt").read_text() == "weights"


def test_overwrite_replaces_a_run(tmp_path, finished):
    out = copy_run(finished[0], tmp_path / "run")
    (out / "log.txt").write_text("epoch=1 from another run\n")
    results = run(Z2, out, overwrite=True, progress=False)
    assert results["epochs"] == 1 and json.loads((out / "results.json").read_text())["epochs"] == 1
    assert (out / "log.txt").read_text().splitlines() == [log_line(results["history"][0])]


def test_a_folder_in_use_is_refused(tmp_path, train_cli):
    with locked(tmp_path):  # another run writing there
        with pytest.raises(FolderInUse, match="is in use by another process"):
            run(Z2, tmp_path, progress=False)
        code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path))
    assert code == 2 and err.startswith(f"error: {tmp_path} is in use by another process")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


# ---------------------------------------------------------------------------------------------
# Checkpoints


def truncated(path):
    path.write_bytes(path.read_bytes()[:5000])


def without_optimizer(path):
    saved = torch.load(path, weights_only=True)
    del saved["optimizer"]
    torch.save(saved, path)


def of_another_network(path):
    saved = torch.load(path, weights_only=True)
    saved["model"] = {"weight": torch.zeros(3)}
    torch.save(saved, path)


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b""), "not a readable checkpoint"),
    (lambda p: p.write_bytes(b"\x80\x04garbage" * 100), "not a readable checkpoint"),
    (truncated, "not a readable checkpoint"),
    (without_optimizer, "a checkpoint without ['optimizer']"),
    (of_another_network, "does not fit z2cnn"),
], ids=["zero bytes", "garbage", "truncated", "key missing", "another network"])
def test_a_bad_checkpoint_is_named_in_one_line(tmp_path, finished, train_cli, damage, message):
    out = copy_run(finished[0], tmp_path / "run")
    damage(out / "checkpoint.pt")
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "2", "--out", str(out), "--resume")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {out / 'checkpoint.pt'}: ") and message in err
    assert "pass --overwrite to start again" in err


def test_the_checkpoint_is_written_before_its_log_line(tmp_path, monkeypatch):
    def full_disk(out, *args):
        raise OSError(28, "No space left on device", str(out / "checkpoint.pt"))

    monkeypatch.setattr(train, "save_checkpoint", full_disk)
    with pytest.raises(OSError, match="No space left on device"):
        run(Z2, tmp_path, progress=False)
    assert not (tmp_path / "log.txt").exists()  # no line for an epoch that no checkpoint holds


def test_a_full_disk_is_named_and_resume_then_works(tmp_path, monkeypatch, train_cli):
    save = torch.save

    def half_then_full(obj, f):
        f.write(b"PK\x03\x04 half a checkpoint")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.torch, "save", half_then_full)
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path))
    assert code == 2
    assert err.splitlines()[-1] == f"error: {tmp_path / 'checkpoint.pt'}: No space left on device"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]  # no partial file
    monkeypatch.setattr(files.torch, "save", save)
    code, _, err = train_cli("--model", "z2cnn", "--epochs", "1", "--out", str(tmp_path), "--resume")
    assert code == 0, err


def test_resume_after_an_interrupted_save_rewrites_the_log_and_removes_leftovers(tmp_path, finished):
    out = copy_run(finished[0], tmp_path / "run")
    (out / "results.json").unlink()
    (out / "model.pt").unlink()
    lines = (out / "log.txt").read_text().splitlines()
    (out / "log.txt").write_text("\n".join(lines + lines[-1:]) + "\n")  # an epoch logged twice
    (out / ".checkpoint.pt.x1y2z3.tmp").write_bytes(b"half a checkpoint")  # a save killed midway
    results = run(TWO_EPOCHS, out, resume=True, progress=False)
    assert (out / "log.txt").read_text().splitlines() == lines == [log_line(r) for r in results["history"]]
    assert not (out / ".checkpoint.pt.x1y2z3.tmp").exists()
    assert results["test_error"] == finished[1]["test_error"]


def test_run_files_are_readable_by_all_and_record_their_data(finished):
    out, results = finished
    for name in ("checkpoint.pt", "model.pt", "results.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
    data = results["data_provenance"]
    assert data["seed"] == 2016 and len(data["arrays_sha256"]) == 64 and data["file"].endswith("sample.npz")
