"""Video detection: synthetic clips with ground truth, the motion detector, tracker and
classifier, and the ONNX path with small hand-built YOLO models."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from haizhou.airspace.video.classify import TrackClassifier
from haizhou.airspace.video.detect import MotionDetector, to_grey
from haizhou.airspace.video.onnx import YoloOnnxDetector, letterbox, nms
from haizhou.airspace.video.pipeline import VideoPipeline, score_clip
from haizhou.airspace.video.synthetic import SyntheticClip

onnx = pytest.importorskip("onnx")


def _run(clip: SyntheticClip, frames: int, pipe: VideoPipeline | None = None):
    pipe = pipe or VideoPipeline()
    reports, truth = [], []
    for t, (frame, boxes) in enumerate(clip.frames(frames)):
        reports.append(pipe.process(t, frame))
        truth.append(boxes)
    return pipe, reports, truth


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    a, _ = SyntheticClip(width=320, height=180, seed=4).frame(17)
    b, _ = SyntheticClip(width=320, height=180, seed=4).frame(17)
    c, _ = SyntheticClip(width=320, height=180, seed=5).frame(17)
    assert a.tobytes() == b.tobytes()
    assert a.tobytes() != c.tobytes()


@pytest.mark.slow
def test_finds_tracks_and_labels_drones_and_birds_on_unseen_clips() -> None:
    """Seeds 1000+ trained the shipped weights; clips 7, 8, 10 and 12 were never seen (in 8 a
    drone hovers from the first frame, so its start is learnt as sky and it is found late)."""
    scores = [score_clip(*_run(SyntheticClip(seed=seed), 160)[1:]) for seed in (7, 8, 10, 12)]
    assert np.mean([s.recall for s in scores]) >= 0.95
    assert np.mean([s.precision for s in scores]) >= 0.95
    assert np.mean([s.classification_accuracy for s in scores]) >= 0.95
    assert np.mean([s.drone_recall for s in scores]) >= 0.9
    assert min(s.recall for s in scores) >= 0.9


def _square_clip(frames: int, present: range, centre=(60, 60), size=10) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    out = []
    for t in range(frames):
        frame = np.full((120, 160), 180.0) + rng.normal(0, 2.0, (120, 160))
        if t in present:
            x, y = centre
            frame[y - size // 2 : y + size // 2, x - size // 2 : x + size // 2] = 80.0
        out.append(np.clip(frame, 0, 255).astype(np.uint8))
    return out


def test_a_still_object_stays_detected_and_leaves_no_ghost_when_it_goes() -> None:
    detector = MotionDetector(warmup=5)
    frames = _square_clip(140, present=range(20, 80))
    seen = [len(detector.detect(f)) for f in frames]
    assert all(n == 1 for n in seen[21:80])  # hovering for 60 frames (2.4 s at 25 fps)
    assert sum(seen[85:]) == 0  # once it has gone, nothing is left where it was


def test_static_scene_gives_nothing_after_warmup() -> None:
    detector = MotionDetector(warmup=5)
    assert sum(len(detector.detect(f)) for f in _square_clip(60, present=range(0))) == 0


def test_to_grey_accepts_grey_and_rgb_and_refuses_other_shapes() -> None:
    rgb = np.zeros((4, 4, 3), dtype=np.uint8)
    rgb[..., 1] = 200
    assert to_grey(rgb)[0, 0] == (150 * 200) >> 8
    with pytest.raises(ValueError, match="frame must be"):
        to_grey(np.zeros((4, 4, 5), dtype=np.uint8))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([(8, 8), (31, 17), (120, 160)]))
def test_random_frames_never_crash(seed: int, shape: tuple[int, int]) -> None:
    rng = np.random.default_rng(seed)
    pipe = VideoPipeline(detector=MotionDetector(warmup=2))
    for t in range(6):
        objects = pipe.process(t, rng.integers(0, 256, size=shape, dtype=np.uint8))
        assert all(o.label in {"drone", "bird", "unknown"} for o in objects)


def test_classifier_says_unknown_on_a_short_track() -> None:
    from haizhou.airspace.video.detect import Detection
    from haizhou.airspace.video.track import VideoTrack

    track = VideoTrack(track_id=1, first_frame=0, last_frame=2, position=np.zeros(2))
    for f in range(3):
        track.history.append((f, Detection(0, 0, 10, 10, score=0.9, area=50)))
    assert TrackClassifier().classify(track).label == "unknown"


# --- ONNX ----------------------------------------------------------------------------------


def _constant_yolo(output: np.ndarray, size: int, names: dict[int, str] | None = None) -> bytes:
    """An ONNX model whose output is ``output`` whatever the image (plus 0 × its mean, so the
    input is really read)."""
    from onnx import TensorProto, helper, numpy_helper

    images = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, size, size])
    result = helper.make_tensor_value_info("output0", TensorProto.FLOAT, list(output.shape))
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["mean"], keepdims=0),
        helper.make_node("Mul", ["mean", "zero"], ["nothing"]),
        helper.make_node("Add", ["boxes", "nothing"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "constant_yolo",
        [images],
        [result],
        initializer=[
            numpy_helper.from_array(output.astype(np.float32), "boxes"),
            numpy_helper.from_array(np.zeros((), dtype=np.float32), "zero"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if names is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = "names", repr(names)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_yolov8_layout_boxes_come_back_in_frame_pixels_after_nms() -> None:
    size = 320
    # Frame 640 × 360 → scale 0.5, padding 70 px top. Boxes in letter-boxed input pixels.
    candidates = np.array(
        [
            # cx, cy, w, h, drone, bird
            [100, 120, 20, 10, 0.9, 0.1],
            [101, 121, 20, 10, 0.8, 0.1],  # same object, weaker: suppressed
            [200, 200, 10, 10, 0.1, 0.6],
            [50, 50, 10, 10, 0.1, 0.2],  # below the confidence threshold
        ],
        dtype=np.float32,
    )
    model = _constant_yolo(candidates.T[None], size, names={0: "drone", 1: "bird"})
    detector = YoloOnnxDetector(model, confidence=0.25)
    assert detector.class_names == ("drone", "bird")
    found = sorted(detector.detect(np.zeros((360, 640, 3), dtype=np.uint8)), key=lambda d: d.x0)
    assert [d.label for d in found] == ["drone", "bird"]
    drone = found[0]
    assert (drone.x0, drone.y0, drone.x1, drone.y1) == pytest.approx((180, 90, 220, 110))
    assert drone.score == pytest.approx(0.9)


def test_yolov5_layout_multiplies_objectness_and_names_can_be_given() -> None:
    candidates = np.array(
        [[160, 160, 20, 20, 0.5, 0.9], [60, 60, 10, 10, 0.2, 0.9]], dtype=np.float32
    )
    model = _constant_yolo(candidates[None], 320)
    with pytest.raises(ValueError, match="names"):
        YoloOnnxDetector(model)
    detector = YoloOnnxDetector(model, class_names=("drone",), confidence=0.3)
    found = detector.detect(np.zeros((320, 320), dtype=np.uint8))
    assert len(found) == 1 and found[0].score == pytest.approx(0.45)


def test_an_output_that_fits_no_yolo_layout_is_refused() -> None:
    model = _constant_yolo(np.zeros((1, 9, 9), dtype=np.float32), 64)
    detector = YoloOnnxDetector(model, class_names=("drone", "bird"))
    with pytest.raises(ValueError, match="neither YOLO layout"):
        detector.detect(np.zeros((64, 64, 3), dtype=np.uint8))


def test_track_label_follows_the_model_detector_votes() -> None:
    candidates = np.array([[100, 100, 16, 16, 0.2, 0.8]], dtype=np.float32)
    detector = YoloOnnxDetector(
        _constant_yolo(candidates.T[None], 320), class_names=("drone", "bird")
    )
    pipe = VideoPipeline(detector=detector)
    for t in range(5):
        objects = pipe.process(t, np.zeros((320, 320, 3), dtype=np.uint8))
    assert [o.label for o in objects] == ["bird"]


def test_letterbox_and_nms_helpers() -> None:
    image, scale, pad = letterbox(np.zeros((100, 50, 3), dtype=np.uint8), 200)
    assert image.shape == (200, 200, 3) and scale == 2.0 and pad == (50.0, 0.0)
    assert image[0, 0, 0] == 114 and image[0, 100, 0] == 0
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10]], dtype=float)
    assert nms(boxes, np.array([0.5, 0.6]), 0.5).tolist() == [1]


def test_fast_dilation_equals_scipy() -> None:
    from scipy import ndimage

    from haizhou.airspace.video.detect import _dilate3

    mask = np.random.default_rng(3).random((41, 67)) > 0.95
    expected = ndimage.binary_dilation(mask, structure=np.ones((3, 3), dtype=bool))
    assert (_dilate3(mask) == expected).all()
