"""Synthetic sky video with ground truth (合成视频): drones, birds, clouds and sensor noise.

A fixed camera looks at the sky above a protected site. Drones are dark quadcopter silhouettes
(a body and four rotors) flying smooth paths or hovering; birds are dark bodies whose wings beat
several times a second and whose heading wanders. Clouds drift slowly and the sensor adds
noise, so a detector has to tell motion of objects from changes of the background. The same
seed gives the same frames, byte for byte.

Examples
--------
>>> clip = SyntheticClip(width=320, height=180, n_drones=1, n_birds=1, seed=3)
>>> frame, truth = clip.frame(0)
>>> frame.shape, frame.dtype, sorted({t.label for t in truth})
((180, 320), dtype('uint8'), ['bird', 'drone'])
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

__all__ = ["GroundTruthBox", "SyntheticClip"]


@dataclass(frozen=True, slots=True)
class GroundTruthBox:
    """Where one object is in one frame.

    Attributes
    ----------
    object_id : int
    label : {"drone", "bird"}
    x0, y0, x1, y1 : float
        Pixel box, ``x1``/``y1`` exclusive.
    """

    object_id: int
    label: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.y0 + self.y1) / 2


@dataclass(slots=True)
class _Object:
    object_id: int
    label: str
    size: float  # span in pixels
    start: np.ndarray  # (2,) x, y
    velocity: np.ndarray  # (2,) px per frame
    turn: float  # radians per frame (drones) or heading noise (birds)
    flap_hz: float
    phase: float
    hover_from: int
    hover_to: int
    darkness: float


@dataclass
class SyntheticClip:
    """A deterministic synthetic clip.

    Parameters
    ----------
    width, height : int
        Frame size in pixels.
    fps : float
        Frames per second (wing beats are timed in seconds).
    n_drones, n_birds : int
        Objects in view; they enter at random frames in the first half of the clip.
    noise : float
        Standard deviation of the sensor noise, in grey levels.
    cloud_drift : float
        Cloud motion in pixels per frame.
    seed : int
    """

    width: int = 1280
    height: int = 720
    fps: float = 25.0
    n_drones: int = 2
    n_birds: int = 3
    noise: float = 2.5
    cloud_drift: float = 0.15
    seed: int = 0
    _objects: list[_Object] = field(init=False, repr=False)
    _sky: np.ndarray = field(init=False, repr=False)
    _cloud: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        w, h = self.width, self.height
        rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        self._sky = np.broadcast_to(200.0 - 40.0 * rows, (h, w)).astype(np.float32)
        # Clouds: smoothed noise on a frame twice as wide so it can drift across.
        coarse = rng.normal(size=(max(h // 90, 4), max(w // 45, 8))).astype(np.float32)
        cloud = ndimage.zoom(coarse, (h / coarse.shape[0], (2 * w + 1) / coarse.shape[1]), order=3)
        self._cloud = np.log1p(np.exp(2.0 * cloud[:h, : 2 * w + 1])) * 9.0  # soft clip: no edges
        scale = min(w, h) / 720.0
        self._objects = []
        for i in range(self.n_drones + self.n_birds):
            label = "drone" if i < self.n_drones else "bird"
            speed = (
                rng.uniform(0.8, 3.0) * scale if label == "drone" else rng.uniform(2.0, 5.0) * scale
            )
            heading = rng.uniform(0, 2 * np.pi)
            hover_from = (
                int(rng.integers(0, 200)) if label == "drone" and rng.random() < 0.5 else -1
            )
            self._objects.append(
                _Object(
                    object_id=i + 1,
                    label=label,
                    size=float(
                        rng.uniform(14, 30) * scale
                        if label == "drone"
                        else rng.uniform(12, 24) * scale
                    ),
                    start=np.array([rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h]),
                    velocity=speed * np.array([np.cos(heading), np.sin(heading)]),
                    turn=float(rng.normal(0, 0.004))
                    if label == "drone"
                    else float(rng.uniform(0.04, 0.09)),
                    flap_hz=float(rng.uniform(3.0, 7.0)),
                    phase=float(rng.uniform(0, 2 * np.pi)),
                    hover_from=hover_from,
                    hover_to=hover_from + int(rng.integers(25, 75)) if hover_from >= 0 else -1,
                    darkness=float(rng.uniform(70, 120)),
                )
            )

    # --- trajectories ------------------------------------------------------------------------

    def _position(self, obj: _Object, t: int) -> tuple[np.ndarray, float]:
        """Centre and heading of ``obj`` at frame ``t`` (closed form, so frames are independent)."""
        if obj.label == "drone":
            # Constant turn rate; hovering freezes the path for a while.
            moving = t
            if obj.hover_from >= 0 and t > obj.hover_from:
                moving = t - (min(t, obj.hover_to) - obj.hover_from)
            speed = float(np.hypot(*obj.velocity))
            heading0 = float(np.arctan2(obj.velocity[1], obj.velocity[0]))
            if abs(obj.turn) < 1e-9:
                offset = obj.velocity * moving
            else:
                r = speed / obj.turn
                ang = heading0 + obj.turn * moving
                offset = r * np.array(
                    [np.sin(ang) - np.sin(heading0), np.cos(heading0) - np.cos(ang)]
                )
            return obj.start + offset, heading0 + obj.turn * moving
        # Birds: heading wanders by a smooth pseudo-random curve.
        steps = np.arange(t + 1)
        wander = obj.turn * (
            np.sin(steps * 0.05 + obj.phase) * 6 + np.sin(steps * 0.13 + 2 * obj.phase) * 3
        )
        heading0 = float(np.arctan2(obj.velocity[1], obj.velocity[0]))
        speed = float(np.hypot(*obj.velocity))
        angles = heading0 + wander
        path = np.stack([np.cos(angles), np.sin(angles)], axis=1) * speed
        return obj.start + path[:t].sum(axis=0), float(angles[-1])

    def _reflect(self, p: np.ndarray, margin: float) -> np.ndarray:
        """Keep objects in view by folding their path at the frame edges."""
        out = p.copy()
        for axis, limit in ((0, self.width), (1, self.height)):
            span = limit - 2 * margin
            q = (out[axis] - margin) % (2 * span)
            out[axis] = margin + (q if q <= span else 2 * span - q)
        return out

    # --- rendering ---------------------------------------------------------------------------

    def _draw(self, canvas: np.ndarray, obj: _Object, centre: np.ndarray, t: int) -> GroundTruthBox:
        s = obj.size
        half = int(np.ceil(s / 2)) + 2
        cx, cy = float(centre[0]), float(centre[1])
        x0, y0 = int(np.floor(cx)) - half, int(np.floor(cy)) - half
        yy, xx = np.mgrid[y0 : y0 + 2 * half + 1, x0 : x0 + 2 * half + 1].astype(np.float32)
        dx, dy = xx - cx, yy - cy
        if obj.label == "drone":
            body = np.clip(1.5 - np.maximum(np.abs(dx), np.abs(dy)) / (0.12 * s), 0, 1)
            arms = np.clip(1.2 - np.minimum(np.abs(dx - dy), np.abs(dx + dy)) / (0.05 * s), 0, 1)
            arms *= np.hypot(dx, dy) < 0.42 * s
            rotors = np.zeros_like(dx)
            for sx in (-1, 1):
                for sy in (-1, 1):
                    d = np.hypot(dx - sx * 0.3 * s, dy - sy * 0.3 * s)
                    rotors = np.maximum(rotors, np.clip(1.4 - d / (0.13 * s), 0, 1))
            alpha = np.maximum(np.maximum(body, arms), rotors)
            ext_x = ext_y = 0.45 * s
        else:
            beat = np.sin(2 * np.pi * obj.flap_hz * t / self.fps + obj.phase)
            span = s * (0.55 + 0.45 * abs(beat))  # wings fold and open
            lift = 0.25 * s * beat
            body = np.clip(1.3 - np.hypot(dx / (0.25 * s), dy / (0.15 * s)), 0, 1)
            wing_y = lift * (np.abs(dx) / (span / 2 + 1e-6))
            wings = np.clip(1.2 - np.abs(dy + wing_y) / (0.08 * s + 1), 0, 1) * (
                np.abs(dx) < span / 2
            )
            alpha = np.maximum(body, wings)
            ext_x, ext_y = span / 2, max(0.15 * s, abs(lift)) + 0.08 * s
        alpha = np.clip(alpha, 0, 1)
        h, w = canvas.shape
        sx0, sy0 = max(x0, 0), max(y0, 0)
        sx1, sy1 = min(x0 + alpha.shape[1], w), min(y0 + alpha.shape[0], h)
        if sx1 > sx0 and sy1 > sy0:
            a = alpha[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0]
            region = canvas[sy0:sy1, sx0:sx1]
            region -= a * (region - obj.darkness)
        return GroundTruthBox(
            obj.object_id,
            obj.label,
            max(cx - ext_x, 0.0),
            max(cy - ext_y, 0.0),
            min(cx + ext_x, float(w)),
            min(cy + ext_y, float(h)),
        )

    def frame(self, t: int) -> tuple[np.ndarray, list[GroundTruthBox]]:
        """Frame ``t`` (grey, uint8) and the ground-truth boxes of the objects in it."""
        offset = (t * self.cloud_drift) % self.width
        shift, frac = int(offset), np.float32(offset - int(offset))
        cloud = (1 - frac) * self._cloud[:, shift : shift + self.width] + frac * self._cloud[
            :, shift + 1 : shift + 1 + self.width
        ]
        canvas = self._sky - cloud
        truth = []
        for obj in self._objects:
            centre, _ = self._position(obj, t)
            centre = self._reflect(centre, margin=obj.size)
            truth.append(self._draw(canvas, obj, centre, t))
        noise_rng = np.random.default_rng((self.seed, t))
        canvas += noise_rng.normal(0.0, self.noise, size=canvas.shape).astype(np.float32)
        return np.clip(canvas, 0, 255).astype(np.uint8), truth

    def frames(self, n: int) -> Iterator[tuple[np.ndarray, list[GroundTruthBox]]]:
        """The first ``n`` frames with their ground truth."""
        for t in range(n):
            yield self.frame(t)
