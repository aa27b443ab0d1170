#!/usr/bin/env python3
"""Checks visionc's document layout detector (Graphs/detect-layout.yaml) against RapidLayout.

Usage: scripts/compare_layout.py VISIONC_BINARY [IMAGE ...]
       scripts/compare_layout.py --reference

The peer is RapidLayout 0.4.2 (`RapidLayout(model_type="pp_layout_cdla", model_path=...)`,
given the same assets/models/layout_cdla.onnx, conf_thres 0.5, iou_thres 0.5: the graph's
thresholds) on the same file. Every peer box must be matched by a visionc box of the same
label with IoU >= 0.95 and a score within 1e-3, and visionc must find no box the peer lacks;
exits 1 otherwise. Without images it checks the agreement set, LAYOUT_IMAGES: the OCR test
pages page.jpg, text.jpg and eurotext.jpg, and report-page.jpg, a page fetch_assets.py renders
(title, paragraphs, a figure, a table, their captions).

--reference writes the peer's boxes for LAYOUT_IMAGES to assets/references/layout.json, with
the thresholds, for Tests/DriverTests/LayoutGraphTests.swift (no visionc needed); it does
nothing when the file matches the images and model on disk and this generator. The peer runs
in .venv-layout-peers (made here on first run from requirements-layout-peers.txt).
"""

from __future__ import annotations

import sys
from pathlib import Path

from peer_venv import box_iou, ensure_peer_venv, reference_images_are_current, visionc_results
from reference_files import ReferenceError, run_generator, sha256_of_file, write_manifest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-layout-peers"
REQUIREMENTS = ROOT / "requirements-layout-peers.txt"
NO_DEPS = ("rapid-layout",)  # installed without its dependencies (full opencv-python)
ASSETS_DIR = ROOT / "assets"
MODEL = ASSETS_DIR / "models" / "layout_cdla.onnx"
# The OCR test pages, and a rendered report page with most of the classes (fetch_assets.py).
LAYOUT_IMAGES = ["images/page.jpg", "images/text.jpg", "images/eurotext.jpg", "images/report-page.jpg"]  # relative to assets/
REFERENCE = ASSETS_DIR / "references" / "layout.json"
GENERATOR_VERSION = 1
SCORE_THRESHOLD = 0.5
IOU_THRESHOLD = 0.5
IOU_MIN = 0.95
SCORE_MAX_DIFFERENCE = 1e-3


_ENGINE = None


def peer_boxes(path: str) -> list[dict]:
    global _ENGINE
    if _ENGINE is None:
        from rapid_layout import RapidLayout
        _ENGINE = RapidLayout(model_type="pp_layout_cdla", model_path=str(MODEL),
                              conf_thres=SCORE_THRESHOLD, iou_thres=IOU_THRESHOLD)
    boxes, scores, labels, _ = _ENGINE(path)
    return [{"box": [float(v) for v in box], "score": float(score), "label": str(label)}
            for box, score, label in zip(boxes, scores, labels)]


def reference_is_current() -> bool:
    """True when layout.json comes from this generator, the model and the images now on disk.
    Runs before the peer venv is needed, so a cached run stays fast."""
    manifest = reference_images_are_current(REFERENCE, GENERATOR_VERSION, LAYOUT_IMAGES, ASSETS_DIR)
    return manifest is not None and MODEL.is_file() and manifest.get("model_sha256") == sha256_of_file(MODEL)


def make_reference() -> None:
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    from importlib.metadata import version

    if not MODEL.is_file():
        raise ReferenceError(f"{MODEL} is missing; run scripts/setup")
    entries = []
    for image in LAYOUT_IMAGES:
        path = ASSETS_DIR / image
        if not path.is_file():
            raise ReferenceError(f"{path} is missing; run scripts/setup")
        found = peer_boxes(str(path))
        entries.append({"image": image, "sha256": sha256_of_file(path), "boxes": found})
        print(f"compare_layout: {image}: peer {len(found)} boxes", flush=True)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    write_manifest(REFERENCE, {
        "generator_version": GENERATOR_VERSION,
        "peer": f"rapid-layout {version('rapid-layout')}, onnxruntime {version('onnxruntime')}, "
                f"opencv-python-headless {version('opencv-python-headless')}",
        "model_sha256": sha256_of_file(MODEL),
        "box_format": "x1, y1, x2, y2 in the source image's pixels",
        "score_threshold": SCORE_THRESHOLD,
        "iou_threshold": IOU_THRESHOLD,
        "iou_min": IOU_MIN,
        "score_max_difference": SCORE_MAX_DIFFERENCE,
        "images": entries,
    })
    print(f"compare_layout: wrote {REFERENCE.relative_to(ROOT)}", flush=True)


def compare(ours: list[dict], theirs: list[dict]) -> tuple[bool, list[str]]:
    """Each peer box against the best-overlapping visionc box of its label left."""
    lines, ok = [], len(ours) == len(theirs)
    unpaired = list(range(len(ours)))
    worst_iou, worst_score = 1.0, 0.0
    for peer in theirs:
        same = [j for j in unpaired if ours[j]["label"] == peer["label"]]
        best = max(same, key=lambda j: box_iou(ours[j]["box"], peer["box"]), default=None)
        if best is None:
            lines.append(f"  peer {peer['label']} {peer['box']} has no visionc box")
            ok = False
            continue
        unpaired.remove(best)
        overlap = box_iou(ours[best]["box"], peer["box"])
        difference = abs(ours[best]["score"] - peer["score"])
        worst_iou, worst_score = min(worst_iou, overlap), max(worst_score, difference)
        agrees = overlap >= IOU_MIN and difference <= SCORE_MAX_DIFFERENCE
        ok = ok and agrees
        lines.append(f"  {peer['label']:<15} IoU {overlap:.6f}  score {ours[best]['score']:.5f} vs {peer['score']:.5f}"
                     f"  {'ok' if agrees else 'DISAGREES'}")
    for j in unpaired:
        lines.append(f"  visionc {ours[j]['label']} {ours[j]['box']} has no peer box")
    lines.append(f"  {len(ours)} visionc boxes, {len(theirs)} peer boxes; lowest IoU {worst_iou:.6f}, "
                 f"largest score difference {worst_score:.2e}")
    return ok, lines


def main() -> int:
    if sys.argv[1:] == ["--reference"]:
        return run_generator("compare_layout", reference_is_current, make_reference)
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    binary, images = sys.argv[1], sys.argv[2:] or [str(ASSETS_DIR / image) for image in LAYOUT_IMAGES]
    ok = True
    for path in images:
        ours = visionc_results(binary, ROOT / "Graphs/detect-layout.yaml", path)
        if ours is None:
            ok = False
            continue
        agrees, lines = compare(ours, peer_boxes(path))
        ok = ok and agrees
        print(path)
        print("\n".join(lines))
    print("layout agreement:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
