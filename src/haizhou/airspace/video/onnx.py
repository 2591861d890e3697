"""A YOLO-format ONNX detector run with onnxruntime (模型检测器).

The bureau can bring its own trained drone detector: any ONNX model exported from the YOLO
family (YOLOv5, YOLOv8 and later, as Ultralytics exports them). The input is one RGB image,
``[1, 3, S, S]`` float 0–1, letter-boxed (scaled to fit, padded grey); the output is either

- ``[1, 4 + C, N]`` (YOLOv8 and later): box centre x, y, width, height in input pixels, then
  one score per class; or
- ``[1, N, 5 + C]`` (YOLOv5): box, objectness, then class probabilities.

The layout is told by the number of attributes against the number of class names. Class names
come from ``class_names`` or from the model's ``names`` metadata (as Ultralytics writes it).
Boxes are mapped back to the frame and reduced by per-class non-maximum suppression.

Nothing is downloaded: the model is a file the user supplies.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from haizhou.airspace.video.detect import Detection

__all__ = ["YoloOnnxDetector", "letterbox", "nms"]


def letterbox(frame: np.ndarray, size: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """Scale ``frame`` (H, W, 3 uint8) to fit ``size`` × ``size`` and pad with grey 114.

    Returns the padded image, the scale and the (x, y) padding, so that a point ``p`` of the
    padded image is ``(p - pad) / scale`` in the frame.

    >>> img, scale, pad = letterbox(np.zeros((360, 640, 3), dtype=np.uint8), 320)
    >>> img.shape, scale, pad
    ((320, 320, 3), 0.5, (0.0, 70.0))
    """
    from PIL import Image

    h, w = frame.shape[:2]
    scale = min(size / w, size / h)
    nw, nh = max(round(w * scale), 1), max(round(h * scale), 1)
    resized = np.asarray(Image.fromarray(frame).resize((nw, nh), Image.BILINEAR))
    out = np.full((size, size, 3), 114, dtype=np.uint8)
    px, py = (size - nw) // 2, (size - nh) // 2
    out[py : py + nh, px : px + nw] = resized
    return out, scale, (float(px), float(py))


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression (boxes as x0, y0, x1, y1).

    >>> nms(np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]]), np.array([.9, .8, .7]), .5)
    array([0, 2])
    """
    order = np.argsort(-scores, kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep = []
    while order.size:
        i = order[0]
        keep.append(i)
        rest = order[1:]
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        overlap = inter / (areas[i] + areas[rest] - inter + 1e-9)
        order = rest[overlap <= iou]
    return np.array(keep, dtype=int)


@dataclass
class YoloOnnxDetector:
    """Detect with a user-supplied YOLO ONNX model.

    Parameters
    ----------
    model : path or bytes
        The ONNX file (or its bytes).
    class_names : sequence of str or None
        Names of the model's classes, in order; ``None`` reads the model's ``names`` metadata.
    confidence : float
        Smallest class score kept.
    iou : float
        Overlap above which a weaker box of the same class is suppressed.
    keep_classes : set of str or None
        Report only these classes (e.g. ``{"drone", "bird"}``); ``None`` keeps all.
    threads : int
        onnxruntime intra-op threads.
    """

    model: str | Path | bytes
    class_names: tuple[str, ...] | None = None
    confidence: float = 0.25
    iou: float = 0.45
    keep_classes: frozenset[str] | None = None
    threads: int = 2
    _session: Any = field(default=None, init=False, repr=False)
    _input: str = field(default="", init=False, repr=False)
    _size: int = field(default=640, init=False, repr=False)

    def __post_init__(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise RuntimeError("onnxruntime is needed for ONNX detectors") from exc
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        source = self.model if isinstance(self.model, bytes) else str(self.model)
        self._session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
        spec = self._session.get_inputs()[0]
        self._input = spec.name
        shape = spec.shape
        self._size = int(shape[2]) if isinstance(shape[2], int) else 640
        if self.class_names is None:
            names = self._session.get_modelmeta().custom_metadata_map.get("names")
            if not names:
                raise ValueError("the model has no 'names' metadata: give the class names")
            parsed = ast.literal_eval(names)
            ordered = (
                [parsed[k] for k in sorted(parsed)] if isinstance(parsed, dict) else list(parsed)
            )
            self.class_names = tuple(str(n) for n in ordered)

    @property
    def input_size(self) -> int:
        return self._size

    def decode(self, output: np.ndarray, scale: float, pad: tuple[float, float]) -> list[Detection]:
        """Detections from one raw output tensor of the model."""
        names = self.class_names or ()
        out = np.asarray(output, dtype=np.float32)
        out = out[0] if out.ndim == 3 else out
        n_cls = len(names)
        if out.shape[0] in (4 + n_cls, 5 + n_cls) and out.shape[1] not in (4 + n_cls, 5 + n_cls):
            out = out.T  # YOLOv8 layout: attributes first
        if out.shape[1] == 5 + n_cls:  # YOLOv5: objectness times class probability
            scores = out[:, 5:] * out[:, 4:5]
        elif out.shape[1] == 4 + n_cls:
            scores = out[:, 4:]
        else:
            raise ValueError(
                f"output of shape {tuple(output.shape)} fits neither YOLO layout for "
                f"{n_cls} classes"
            )
        cls = scores.argmax(axis=1)
        best = scores[np.arange(len(scores)), cls]
        ok = best >= self.confidence
        if self.keep_classes is not None:
            ok &= np.isin(np.array(names, dtype=object)[cls], list(self.keep_classes))
        cx, cy, w, h = (out[ok, i] for i in range(4))
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
        boxes = (boxes - np.array([pad[0], pad[1], pad[0], pad[1]])) / scale
        cls, best = cls[ok], best[ok]
        detections = []
        for c in np.unique(cls):
            idx = np.flatnonzero(cls == c)
            for k in idx[nms(boxes[idx], best[idx], self.iou)]:
                x0, y0, x1, y1 = (float(v) for v in boxes[k])
                detections.append(
                    Detection(
                        x0,
                        y0,
                        x1,
                        y1,
                        score=float(best[k]),
                        area=(x1 - x0) * (y1 - y0),
                        label=names[c],
                    )
                )
        return detections

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """Run the model on one frame (grey or RGB uint8)."""
        rgb = np.repeat(frame[..., None], 3, axis=2) if frame.ndim == 2 else frame[..., :3]
        image, scale, pad = letterbox(np.ascontiguousarray(rgb), self._size)
        tensor = (image.transpose(2, 0, 1)[None].astype(np.float32)) / 255.0
        output = self._session.run(None, {self._input: tensor})[0]
        detections = self.decode(output, scale, pad)
        h, w = frame.shape[:2]
        return [
            Detection(
                max(d.x0, 0.0),
                max(d.y0, 0.0),
                min(d.x1, float(w)),
                min(d.y1, float(h)),
                score=d.score,
                area=d.area,
                label=d.label,
            )
            for d in detections
        ]
