"""OpenCV's FFmpeg backend with open/read timeouts (RTSP streams and video files)."""

from __future__ import annotations

import os
import threading
from typing import Any

import cv2

_CV_ENV_LOCK = threading.Lock()


def open_capture(source: str, open_timeout_ms: int, read_timeout_ms: int, ffmpeg_options: str = "") -> Any:
    """``cv2.VideoCapture`` through FFmpeg with bounded open and read (``CAP_PROP_*_TIMEOUT_MSEC``)."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, open_timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_timeout_ms]
    with _CV_ENV_LOCK:
        old = os.environ.get("OPENCV_FFMPEG_CAPTURE_OPTIONS")
        if ffmpeg_options:
            os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = ffmpeg_options
        try:
            return cv2.VideoCapture(source, cv2.CAP_FFMPEG, params)
        finally:
            if ffmpeg_options:
                if old is None:
                    os.environ.pop("OPENCV_FFMPEG_CAPTURE_OPTIONS", None)
                else:
                    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = old
