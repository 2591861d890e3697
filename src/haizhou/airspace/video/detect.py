"""Detectors (目标检测): find objects in one frame.

Two detectors share one output, :class:`Detection`:

- :class:`MotionDetector`, the default: a background model that learns the sky and drifting
  clouds, the difference of each frame against it thresholded at a multiple of the measured
  noise, and connected components. It needs no weights and finds anything that moves; telling
  drones from birds is the track classifier's job (:mod:`haizhou.airspace.video.classify`).
  Pixels inside current detections are not learnt into the background, so a hovering drone is
  not absorbed while it stays.
- :class:`~haizhou.airspace.video.onnx.YoloOnnxDetector`, any YOLO-format ONNX model the user
  supplies (see that module).

References
----------
.. [2] Cucchiara, R., Grana, C., Piccardi, M. & Prati, A. (2003). Detecting moving objects,
   ghosts, and shadows in video streams. *IEEE TPAMI* 25(10), 1337–1342.
   https://doi.org/10.1109/TPAMI.2003.1233909
.. [1] Piccardi, M. (2004). Background subtraction techniques: a review. *IEEE SMC*, 4,
   3099–3104. https://doi.org/10.1109/ICSMC.2004.1400815
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

__all__ = ["Detection", "MotionDetector", "to_grey"]

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found in one frame, in full-frame pixels.

    Attributes
    ----------
    x0, y0, x1, y1 : float
        Box, ``x1``/``y1`` exclusive.
    score : float
        Detector confidence, 0–1 (for motion: contrast against the noise, squashed).
    area : float
        Pixels that changed (motion) or box area (model detectors).
    contrast : float
        Mean absolute difference against the background, grey levels (0 for model detectors).
    label : str or None
        Class named by a model detector; ``None`` from motion.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    area: float
    contrast: float = 0.0
    label: str | None = None

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


def _dilate3(mask: np.ndarray) -> np.ndarray:
    """3 × 3 binary dilation as two separable passes of shifted ORs (equal to
    ``ndimage.binary_dilation`` with a 3 × 3 square, several times faster)."""
    rows = mask.copy()
    rows[1:] |= mask[:-1]
    rows[:-1] |= mask[1:]
    out = rows.copy()
    out[:, 1:] |= rows[:, :-1]
    out[:, :-1] |= rows[:, 1:]
    return out


def _edge_energy(patch: np.ndarray) -> float:
    gy, gx = np.gradient(patch)
    return float(np.mean(np.abs(gx) + np.abs(gy)))


def _is_ghost(current: np.ndarray, background: np.ndarray) -> bool:
    """A changed region whose edges are in the background, not in the frame: something that
    stood still long enough to be learnt and has gone (Cucchiara et al. 2003)."""
    if min(current.shape) < 2:
        return False
    return _edge_energy(current) < 0.5 * _edge_energy(background)


def to_grey(frame: np.ndarray) -> np.ndarray:
    """A grey uint8 view of an (H, W) grey or (H, W, 3) RGB frame.

    >>> to_grey(np.full((2, 2, 3), 90, dtype=np.uint8)).tolist()
    [[90, 90], [90, 90]]
    """
    if frame.ndim == 2:
        return frame if frame.dtype == np.uint8 else np.clip(frame, 0, 255).astype(np.uint8)
    if frame.ndim == 3 and frame.shape[2] in (3, 4):
        rgb = frame[..., :3].astype(np.uint16)
        # ITU-R BT.601 luma in integers: (77 R + 150 G + 29 B) / 256.
        return ((77 * rgb[..., 0] + 150 * rgb[..., 1] + 29 * rgb[..., 2]) >> 8).astype(np.uint8)
    raise ValueError(f"a frame must be (H, W) or (H, W, 3), not {frame.shape}")


@dataclass
class MotionDetector:
    """Background-subtraction detector for a fixed camera.

    Parameters
    ----------
    scale : int
        Work on frames shrunk by this factor (block means): 2 keeps objects of about 8 px and
        more at 1280 × 720 and quarters the work.
    learning_rate : float
        Weight of the new frame in the running-average background.
    k_sigma : float
        Threshold as a multiple of the noise's standard deviation (measured every frame from
        the median absolute difference, so it adapts to light and gain).
    min_contrast : float
        Threshold floor in grey levels.
    min_area, max_area : int
        Changed pixels of a component (at full resolution) to keep it.
    warmup : int
        Frames whose per-pixel median is the first background; nothing is reported before.
    """

    scale: int = 2
    learning_rate: float = 0.05
    k_sigma: float = 6.0
    min_contrast: float = 15.0
    min_area: int = 12
    max_area: int = 40_000
    warmup: int = 15
    _background: np.ndarray | None = field(default=None, init=False, repr=False)
    _seen: int = field(default=0, init=False, repr=False)
    _warm: list[np.ndarray] = field(default_factory=list, init=False, repr=False)

    def reset(self) -> None:
        """Forget the background (a new scene or a moved camera)."""
        self._background = None
        self._seen = 0
        self._warm = []

    def _shrink(self, grey: np.ndarray) -> np.ndarray:
        s = self.scale
        if s == 1:
            return grey.astype(np.float32)
        h, w = (grey.shape[0] // s) * s, (grey.shape[1] // s) * s
        # Block means as a sum of strided slices: ten times faster than reshape().mean().
        total = np.zeros((h // s, w // s), dtype=np.uint32 if s > 16 else np.uint16)
        for dy in range(s):
            for dx in range(s):
                total += grey[dy:h:s, dx:w:s]
        return total.astype(np.float32) * np.float32(1.0 / (s * s))

    def detect(self, frame: np.ndarray) -> list[Detection]:
        """The moving objects in ``frame`` (grey or RGB, uint8); learns the frame afterwards."""
        small = self._shrink(to_grey(frame))
        if self._background is None or self._background.shape != small.shape:
            self._warm = [small]
            self._background = small.copy()
            self._seen = 1
            return []
        if self._seen < self.warmup:
            # The first background is the per-pixel median of the warm-up frames: objects
            # that move leave no ghost in it.
            self._warm.append(small)
            self._seen += 1
            if self._seen == self.warmup:
                self._background = np.median(np.stack(self._warm), axis=0).astype(np.float32)
                self._warm = []
            return []
        diff = np.abs(small - self._background)
        # |N(0, σ)| has median 0.6745 σ; one pixel in sixteen estimates it well enough.
        sigma = float(np.median(diff[::4, ::4])) / 0.6745 + 1e-3
        threshold = max(self.k_sigma * sigma, self.min_contrast)
        mask = diff > threshold
        # Join the parts of one object (a drone's rotors and arms) before labelling.
        joined = _dilate3(mask)
        labels, n = ndimage.label(joined, structure=_EIGHT)
        detections: list[Detection] = []
        rate = np.where(joined, self.learning_rate / 10, self.learning_rate).astype(np.float32)
        if n:
            index = np.arange(1, n + 1)
            changed = ndimage.sum_labels(mask, labels, index) * self.scale**2
            contrast = ndimage.mean(diff, labels, index)
            for i, box in enumerate(ndimage.find_objects(labels)):
                if box is None or not self.min_area <= changed[i] <= self.max_area:
                    continue
                ys, xs = box
                if _is_ghost(small[box], self._background[box]):
                    rate[box] = 0.5  # forget what left: the sky is back
                    continue
                c = float(contrast[i])
                detections.append(
                    Detection(
                        x0=float(xs.start * self.scale),
                        y0=float(ys.start * self.scale),
                        x1=float(xs.stop * self.scale),
                        y1=float(ys.stop * self.scale),
                        score=float(1.0 - np.exp(-c / threshold)),
                        area=float(changed[i]),
                        contrast=c,
                    )
                )
        # Selective update: changed pixels are learnt ten times slower, so a moving object
        # leaves no trail and a hovering drone stays visible for seconds; a ghost (an object
        # learnt into the background that has since left) is forgotten at once.
        self._background += rate * (small - self._background)
        self._seen += 1
        return detections
