#!/usr/bin/env python3
"""The fused preprocess kernel against the same steps unfused and against OpenCV + NumPy.

One run measures, per image, the median time of ImageNet preprocessing of the decoded
pixels (resize shorter side to 256 with bilinear, center crop 224, scale + mean/std
normalize, HWC -> NCHW float32):

    visionc -O0   Graphs/preprocess.yaml unfused: resize, crop, cast, normalize, transpose,
                  unsqueeze nodes (`visionc bench --variants O0,O2`, interleaved)
    visionc -O2   the same graph as one fused `preprocess` node
    OpenCV        cv2.resize(INTER_LINEAR) + NumPy crop / astype / normalize / transpose,
                  cv2.setNumThreads(THREADS)

The visionc figures are the sum of the bench's per-node medians over every node but the
decode; the decode itself (TurboJPEG for visionc, not timed for OpenCV) is excluded from all
three.

    .venv/bin/python scripts/bench_preprocess.py [--visionc .build/release/visionc] [--threads 2] [IMAGES...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
GRAPH = REPO_ROOT / "Graphs" / "preprocess.yaml"
DEFAULT_IMAGES = [
    REPO_ROOT / "assets" / "images" / name
    for name in ("chelsea.jpg", "wallpaper-2560x1600-progressive.jpg", "wallpaper-5120x2880.jpg")
]
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def opencv_preprocess(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    # torchvision's Resize(256): the other side is truncated, as visionc does.
    size = (256, int(256 * w / h)) if h <= w else (int(256 * h / w), 256)
    resized = cv2.resize(rgb, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)
    top, left = round((size[0] - 224) / 2), round((size[1] - 224) / 2)
    crop = resized[top:top + 224, left:left + 224]
    normalized = (crop.astype(np.float32) * np.float32(1 / 255) - MEAN) / STD
    return np.ascontiguousarray(normalized.transpose(2, 0, 1)[None])


def time_opencv(image: Path, requests: int, rounds: int) -> float:
    rgb = cv2.cvtColor(cv2.imread(str(image), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    for _ in range(3):
        opencv_preprocess(rgb)
    samples = []
    for _ in range(rounds):
        for _ in range(requests):
            start = time.perf_counter()
            opencv_preprocess(rgb)
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def visionc_medians(visionc: Path, images: list[Path], threads: int, requests: int, rounds: int) -> dict:
    """{(variant, image name): median ms of everything but the decode}."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "bench.json"
        subprocess.run(
            [str(visionc), "bench", str(GRAPH), *map(str, images), "--variants", "O0,O2", "--threads", str(threads),
             "--requests", str(requests), "--rounds", str(rounds), "--json", str(report)],
            check=True, stdout=subprocess.DEVNULL)
        data = json.loads(report.read_text())
    medians = {}
    for result in data["results"]:
        medians[(result["variant"], Path(result["input"]).name)] = sum(
            node["median_ms"] for node in result["nodes"] if node["category"] != "decode")
    return medians


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images", nargs="*", type=Path, default=DEFAULT_IMAGES)
    parser.add_argument("--visionc", type=Path, default=REPO_ROOT / ".build" / "release" / "visionc")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cv2.setNumThreads(args.threads)
    medians = visionc_medians(args.visionc, args.images, args.threads, args.requests, args.rounds)
    print(f"preprocess of the decoded image, median ms, {args.threads} threads "
          f"(OpenCV {cv2.__version__}, NumPy {np.__version__})")
    print(f"{'image':40} {'-O0':>8} {'-O2':>8} {'OpenCV':>8} {'O0/O2':>7} {'CV/O2':>7}")
    for image in args.images:
        o0, o2 = medians[("O0", image.name)], medians[("O2", image.name)]
        cv = time_opencv(image, args.requests, args.rounds)
        print(f"{image.name:40} {o0:8.3f} {o2:8.3f} {cv:8.3f} {o0 / o2:6.1f}x {cv / o2:6.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
