"""gcnn_edu.files: every write goes through a unique temporary file, fsync and a rename."""

import json
import stat

import numpy as np
import pytest
import torch

from gcnn_edu import files


def test_each_kind_of_content_is_written_and_reads_back(tmp_path):
    files.write_bytes(tmp_path / "a.bin", b"\x00\x01")
    files.write_text(tmp_path / "b.txt", "Gruß\n")
    files.write_json(tmp_path / "c.json", {"error": 0.0228})
    files.save_torch(tmp_path / "d.pt", {"w": torch.arange(3)})
    files.save_npz(tmp_path / "sub" / "e.npz", x=np.arange(4))
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "b.txt").read_text(encoding="utf-8") == "Gruß\n"
    assert (tmp_path / "c.json").read_text() == '{\n  "error": 0.0228\n}\n'
    assert json.loads((tmp_path / "c.json").read_text()) == {"error": 0.0228}
    assert torch.equal(torch.load(tmp_path / "d.pt", weights_only=True)["w"], torch.arange(3))
    with np.load(tmp_path / "sub" / "e.npz") as npz:
        assert npz["x"].tolist() == [0, 1, 2, 3]
    for path in (tmp_path / "a.bin", tmp_path / "sub" / "e.npz"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "results.json"
    files.write_json(target, {"old": True})

    def half_then_fail(f):
        f.write(b'{"new": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(target, half_then_fail)
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_temporary_files_have_unique_names(tmp_path, monkeypatch):
    seen = []
    replace = files.os.replace
    monkeypatch.setattr(files.os, "replace", lambda src, dst: (seen.append(src), replace(src, dst)))
    for text in ("one", "two"):
        files.write_text(tmp_path / "table.md", text)
    assert len(set(seen)) == 2 and all(str(tmp_path) in s and s.endswith(".tmp") for s in seen)
    assert (tmp_path / "table.md").read_text() == "two"


def test_json_is_strict_a_nan_is_refused_and_nothing_written(tmp_path):
    for value in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
            files.write_json(tmp_path / "results.json", {"test_error": value})
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    def no_space(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(OSError, match="No space left on device") as caught:
        files.save_torch(tmp_path / "checkpoint.pt", {"w": torch.zeros(3)})
    assert caught.value.filename == str(tmp_path / "checkpoint.pt")
    assert list(tmp_path.iterdir()) == []


def test_the_written_file_and_its_folder_are_flushed(tmp_path, monkeypatch):
    flushed = []
    fsync = files.os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (flushed.append(fd), fsync(fd)))
    files.write_text(tmp_path / "log.md", "x")
    assert len(flushed) == 2  # the file, then the folder that holds its new name


def test_leftovers_of_a_killed_write_are_removed(tmp_path):
    (tmp_path / ".checkpoint.pt.k3j2l1.tmp").write_bytes(b"half a checkpoint")
    (tmp_path / ".download.x7.tmp").mkdir()
    (tmp_path / "checkpoint.pt").write_bytes(b"kept")
    assert files.remove_temporaries(tmp_path) == [".checkpoint.pt.k3j2l1.tmp", ".download.x7.tmp"]
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]


def test_a_locked_folder_is_refused_to_a_second_writer(tmp_path):
    with files.locked(tmp_path / "run"):
        with pytest.raises(files.FolderInUse, match=r"run is in use by another process \(it holds .*\.lock"):
            with files.locked(tmp_path / "run"):
                pass
    with files.locked(tmp_path / "run"):  # released: free again
        pass
