"""``haizhou airspace video`` on a synthetic clip, on a folder of frames, and with bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from haizhou.airspace.video.synthetic import SyntheticClip
from haizhou.cli.main import app

runner = CliRunner()


def test_synthetic_clip_reports_tracks_and_its_score() -> None:
    result = runner.invoke(app, ["airspace", "video", "--seconds", "3", "--seed", "7", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["frames"] == 75 and out["detector"] == "motion"
    labels = sorted(t["label"] for t in out["tracks"])
    assert labels.count("drone") == 2 and labels.count("bird") == 3
    assert out["score"]["recall"] >= 0.9


def test_folder_of_frames_in_name_order(tmp_path: Path) -> None:
    from PIL import Image

    clip = SyntheticClip(width=640, height=360, n_drones=1, n_birds=0, seed=3)
    for t, (frame, _) in enumerate(clip.frames(50)):
        Image.fromarray(frame).save(tmp_path / f"f{t:04d}.png")
    result = runner.invoke(app, ["airspace", "video", "--frames", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["frames"] == 50 and "score" not in out
    assert len(out["tracks"]) == 1


def test_empty_folder_and_bad_model_are_one_line_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["airspace", "video", "--frames", str(empty)])
    assert result.exit_code == 2 and "no PNG/JPEG frames" in result.output
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(np.arange(10, dtype=np.uint8).tobytes())
    result = runner.invoke(app, ["airspace", "video", "--onnx", str(bad), "--seconds", "1"])
    assert result.exit_code == 2 and "cannot load" in result.output
    assert "Traceback" not in result.output
