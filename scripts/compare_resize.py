#!/usr/bin/env python3
"""Reference resizes of real photos from OpenCV and Pillow, and their agreement with visionc.

Writes assets/references/resize/ (git-ignored; scripts/setup runs this):

    <image>.source.npy                 the photo decoded by Pillow (u8 HWC RGB); TurboJPEG
                                       decodes the same bytes to the same pixels
    <image>.<h>x<w>.<method>.npy       that source resized to h x w by the reference library
    manifest.json                      one entry per reference: image, jpeg, size, method,
                                       file, and the tolerance the Swift tests hold it to

Methods and what visionc must match (the issue's bar; RuntimeTests/ResizeAgreementTests):

    cv2-linear   cv2.resize(INTER_LINEAR)   `interpolation: bilinear` (match: opencv)  |diff| <= 1
    cv2-nearest  cv2.resize(INTER_NEAREST)  `interpolation: nearest`                   exact
    cv2-area     cv2.resize(INTER_AREA)     `interpolation: area`                      |diff| <= 1
    pil-bilinear Image.resize(BILINEAR)     `interpolation: bilinear, match: pillow`   exact
    pil-lanczos  Image.resize(LANCZOS)      `interpolation: lanczos`                   exact

With --visionc PATH (a built visionc binary) it also runs each case through visionc
(`run GRAPH JPEG --save resize=FILE.npy` on a decode + resize graph) and prints the
measured agreement per case: max and mean absolute difference and the share of equal
values. Exit status 1 when a case misses its bar.

    .venv/bin/python scripts/compare_resize.py [--visionc .build/release/visionc]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = REPO_ROOT / "assets" / "images"
OUT_DIR = REPO_ROOT / "assets" / "references" / "resize"

# (name, JPEG under assets/images, target sizes (h, w)): downscales by integer and
# non-integer factors, a non-uniform one, an upscale, and sizes where the height shrinks by
# more than twice as many pixels as the width, for which Pillow 13 filters columns first.
IMAGES = [
    ("chelsea", "chelsea.jpg", [(224, 224), (100, 150), (150, 226), (360, 541), (60, 400), (150, 600)]),
    ("astronaut", "astronaut.jpg", [(256, 256), (224, 224), (200, 300), (600, 600), (128, 400)]),
    ("wallpaper", "wallpaper-2560x1600-progressive.jpg", [(224, 224), (400, 640), (333, 533), (256, 409), (200, 2400)]),
]

# method -> (reference function of (u8 HWC array, (h, w)), tolerance, visionc resize arguments)
METHODS = {
    "cv2-linear": (
        lambda a, s: cv2.resize(a, (s[1], s[0]), interpolation=cv2.INTER_LINEAR),
        {"max": 1}, "interpolation: bilinear"),
    "cv2-nearest": (
        lambda a, s: cv2.resize(a, (s[1], s[0]), interpolation=cv2.INTER_NEAREST),
        {"max": 0}, "interpolation: nearest"),
    "cv2-area": (
        lambda a, s: cv2.resize(a, (s[1], s[0]), interpolation=cv2.INTER_AREA),
        {"max": 1}, "interpolation: area"),
    "pil-bilinear": (
        lambda a, s: np.asarray(Image.fromarray(a).resize((s[1], s[0]), Image.Resampling.BILINEAR)),
        {"max": 0}, "interpolation: bilinear, match: pillow"),
    "pil-lanczos": (
        lambda a, s: np.asarray(Image.fromarray(a).resize((s[1], s[0]), Image.Resampling.LANCZOS)),
        {"max": 0}, "interpolation: lanczos"),
}


def write_references() -> list[dict]:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, jpeg, sizes in IMAGES:
        path = IMAGES_DIR / jpeg
        if not path.is_file():
            raise SystemExit(f"compare_resize: error: {path} is missing; run scripts/fetch_assets.py first")
        with Image.open(path) as image:
            source = np.ascontiguousarray(np.asarray(image.convert("RGB")))
        np.save(OUT_DIR / f"{name}.source.npy", source)
        for size in sizes:
            for method, (reference, tolerance, _) in METHODS.items():
                file = f"{name}.{size[0]}x{size[1]}.{method}.npy"
                np.save(OUT_DIR / file, np.ascontiguousarray(reference(source, size)))
                manifest.append({
                    "image": name, "jpeg": jpeg, "source": f"{name}.source.npy", "size": list(size),
                    "method": method, "file": file, "tolerance": tolerance,
                })
    (OUT_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"compare_resize: wrote {len(manifest)} references to {OUT_DIR.relative_to(REPO_ROOT)}")
    return manifest


def measure(visionc: Path, manifest: list[dict]) -> int:
    failures = 0
    print(f"{'case':44} {'max':>4} {'mean':>7} {'equal':>7}  bar")
    with tempfile.TemporaryDirectory() as scratch:
        for case in manifest:
            h, w = case["size"]
            graph = Path(scratch) / "resize.yaml"
            graph.write_text(
                "pipeline: resize\ninputs:\n  image: jpeg\nnodes:\n  - name: resize\n    ops:\n"
                f"      - decode: {{color: rgb}}\n      - resize: {{size: [{h}, {w}], {METHODS[case['method']][2]}}}\n")
            saved = Path(scratch) / "out.npy"
            subprocess.run(
                [str(visionc), "run", str(graph), str(IMAGES_DIR / case["jpeg"]), "-O0", "--save", f"resize={saved}",
                 "--output-dir", scratch],  # the resized image is the graph's output: run also writes it as a PNG
                check=True, stdout=subprocess.DEVNULL)
            ours = np.load(saved).astype(np.int32)
            reference = np.load(OUT_DIR / case["file"]).astype(np.int32)
            diff = np.abs(ours - reference)
            tolerance = case["tolerance"]
            ok = diff.max() <= tolerance["max"] and diff.mean() <= tolerance.get("mean", float("inf"))
            failures += not ok
            bar = f"max <= {tolerance['max']}" + (f", mean <= {tolerance['mean']}" if "mean" in tolerance else "")
            print(f"{case['file'][:-4]:44} {diff.max():4d} {diff.mean():7.4f} {np.mean(diff == 0):7.2%}  {bar}"
                  f"{'' if ok else '  MISSED'}")
    print(f"compare_resize: {len(manifest) - failures} of {len(manifest)} cases within their bar")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visionc", type=Path, help="a built visionc binary to measure against the references")
    args = parser.parse_args()
    manifest = write_references()
    return measure(args.visionc, manifest) if args.visionc else 0


if __name__ == "__main__":
    sys.exit(main())
