"""Privacy at the edge: blur faces (CenterFace) and licence plates before an image leaves the private zone.

``blur_image(bgr) -> bgr`` is what the capture worker applies to public keyframe copies. Private keyframes
are never modified.
"""

from __future__ import annotations

from privacy.blur import blur_boxes, blur_image
from privacy.faces import FaceDetector, centerface_path, detect_faces
from privacy.plates import detect_plates

__all__ = ["FaceDetector", "blur_boxes", "blur_image", "centerface_path", "detect_faces", "detect_plates"]
