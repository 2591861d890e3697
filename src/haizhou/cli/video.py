"""``haizhou airspace video``: find, track and label drones in camera frames (视频探测).

Runs on a synthetic clip with ground truth (the default, so the chain can be checked anywhere)
or on a folder of frames (PNG/JPEG, in name order), with the built-in motion detector or a
YOLO-format ONNX model the user supplies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp"}


def _folder_frames(folder: Path) -> Iterator[np.ndarray]:
    from PIL import Image

    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        raise typer.BadParameter(f"no PNG/JPEG frames in {folder}", param_hint="--frames")
    for path in files:
        with Image.open(path) as image:
            yield np.asarray(image.convert("L"))


def video(
    frames_dir: Annotated[
        Path | None,
        typer.Option(
            "--frames",
            help="Folder of frames (PNG/JPEG, name order). Without it a synthetic clip is used.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    onnx_model: Annotated[
        Path | None,
        typer.Option(
            "--onnx", help="A YOLO-format ONNX model to detect with.", exists=True, dir_okay=False
        ),
    ] = None,
    classes: Annotated[
        str | None,
        typer.Option("--classes", help="The ONNX model's class names in order, e.g. drone,bird."),
    ] = None,
    fps: Annotated[float, typer.Option("--fps", help="Frame rate of the frames.")] = 25.0,
    seconds: Annotated[
        float, typer.Option("--seconds", help="Length of the synthetic clip.")
    ] = 8.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the synthetic clip.")] = 0,
    width: Annotated[int, typer.Option("--width", help="Synthetic frame width.")] = 1280,
    height: Annotated[int, typer.Option("--height", help="Synthetic frame height.")] = 720,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Detect, track and label drones and birds in video frames (视频探测与识别).

    Prints each confirmed track (frames, label, confidence and why), the frames per second
    reached and, on a synthetic clip, recall, precision and classification accuracy against
    its ground truth.
    """
    from haizhou.airspace.video.classify import TrackClassifier
    from haizhou.airspace.video.pipeline import VideoPipeline, score_clip
    from haizhou.airspace.video.synthetic import SyntheticClip

    if fps <= 0 or seconds <= 0 or width < 16 or height < 16:
        raise typer.BadParameter("--fps and --seconds must be > 0, frames at least 16 × 16")
    pipe = VideoPipeline(classifier=TrackClassifier(fps=fps))
    if onnx_model is not None:
        from haizhou.airspace.video.onnx import YoloOnnxDetector

        names = tuple(c.strip() for c in classes.split(",")) if classes else None
        try:
            pipe.detector = YoloOnnxDetector(onnx_model, class_names=names)
        except Exception as exc:  # onnxruntime reports bad models with its own exceptions
            raise typer.BadParameter(
                f"cannot load {onnx_model}: {exc}", param_hint="--onnx"
            ) from None
    truth = None
    if frames_dir is not None:
        source: Iterator[np.ndarray] = _folder_frames(frames_dir)
    else:
        clip = SyntheticClip(width=width, height=height, fps=fps, seed=seed)
        truth = []

        def synthetic() -> Iterator[np.ndarray]:
            for frame, boxes in clip.frames(int(seconds * fps)):
                truth.append(boxes)
                yield frame

        source = synthetic()
    reports = []
    busy = 0.0
    for index, frame in enumerate(source):
        started = time.perf_counter()
        reports.append(pipe.process(index, frame))
        busy += time.perf_counter() - started
    tracks = [
        {
            "track_id": track.track_id,
            "first_frame": track.first_frame,
            "last_frame": track.last_frame,
            "label": result.label,
            "confidence": round(result.confidence, 3),
            "reasons": list(result.reasons),
        }
        for track, result in sorted(pipe.final_labels().values(), key=lambda tr: tr[0].track_id)
    ]
    out: dict = {
        "frames": len(reports),
        "detector": "onnx" if onnx_model else "motion",
        "processing_fps": round(len(reports) / busy, 1) if busy else None,
        "tracks": tracks,
    }
    if truth is not None:
        out["score"] = score_clip(reports, truth).to_dict()
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{len(tracks)} tracks in {len(reports)} frames ({out['processing_fps']} fps)"
    )
    for column in ("track", "frames", "label", "confidence", "why"):
        table.add_column(column)
    for t in tracks:
        table.add_row(
            str(t["track_id"]),
            f"{t['first_frame']}–{t['last_frame']}",
            t["label"],
            f"{t['confidence']:.2f}",
            "; ".join(t["reasons"]),
        )
    console = Console()
    console.print(table)
    if "score" in out:
        console.print(
            "against the synthetic ground truth: "
            + ", ".join(f"{k} {v}" for k, v in out["score"].items())
        )
