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
