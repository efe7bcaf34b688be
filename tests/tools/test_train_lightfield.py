"""tools/train_lightfield.py: both parts run from a small rendered training set, checkpoint, and resume."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from datasets import lightfields  # noqa: E402
from tools import train_lightfield  # noqa: E402


def test_tables_and_blend_resume_from_their_checkpoints(tmp_path, capsys, monkeypatch):
    train = tmp_path / "lf.h5"
    monkeypatch.setenv("OMNICODEC_SHARED_DATA", str(tmp_path / "none"))  # rendered fields only
    assert lightfields.main(["--out", str(train), "--count", "3", "--seed", "1", "--data", str(tmp_path / "none")]) == 0
    common = ["--train", str(train), "--crop", "32", "--val", "layers_000"]
    ck = tmp_path / "tables.npz"
    assert train_lightfield.main([*common, "--passes", "1", "--rates", "3", "--checkpoint", str(ck)]) == 0
    with np.load(ck) as z:
        assert int(z["passes"]) == 1 and z["classes"].sum() > 0 and z["levels"].sum() > 0
    capsys.readouterr()
    assert train_lightfield.main([*common, "--passes", "2", "--rates", "3", "--checkpoint", str(ck)]) == 0
    log = capsys.readouterr().out
    assert "resumed from" in log and "pass 2:" in log and "pass 1:" not in log
    with np.load(ck) as z:
        assert int(z["passes"]) == 2
    bk = tmp_path / "blend.pt"
    blend = [*common, "--part", "blend", "--eval-every", "2", "--checkpoint", str(bk), "--device", "cpu"]
    assert train_lightfield.main([*blend, "--steps", "2"]) == 0
    capsys.readouterr()
    assert train_lightfield.main([*blend, "--steps", "4"]) == 0
    log = capsys.readouterr().out
    assert "resumed from" in log and "step 4:" in log and "step 2:" not in log
    # other options than the checkpoint's: one error line, nothing trained
    blend_other = [a if a != "32" else "40" for a in blend]
    assert train_lightfield.main([*blend_other, "--steps", "6"]) == 2
    assert train_lightfield.main([*common[:2], "--crop", "40", *common[4:], "--passes", "3", "--rates", "3",
                                  "--checkpoint", str(ck)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 2 and "crop" in err and "--fresh" in err
