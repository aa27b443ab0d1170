"""Shared by the agreement scripts (compare_ocr.py, compare_faces.py, compare_layout.py,
compare_segment.py): the peer package's own venv, the box overlap they judge by, and
references to the images they were made from."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from reference_files import read_manifest, sha256_of_file


def ensure_peer_venv(venv: Path, requirements: Path, no_deps: tuple[str, ...]) -> None:
    """Re-runs the calling script under `venv`'s python, creating or completing the venv first
    from `requirements`; the pins starting with a `no_deps` name are installed without their
    dependencies (they would pull the full opencv-python)."""
    python = venv / "bin" / "python"
    if Path(sys.prefix).resolve() == venv.resolve():
        return
    pins = [line.split("#")[0].strip() for line in requirements.read_text().splitlines()]
    pins = [pin for pin in pins if pin]
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    have = {line.strip().lower().replace("_", "-") for line in installed.splitlines()}
    missing = [pin for pin in pins if pin.lower().replace("_", "-") not in have]
    if missing:
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        others = [pin for pin in missing if not pin.startswith(no_deps)]
        bare = [pin for pin in missing if pin.startswith(no_deps)]
        if others:
            subprocess.run(pip + others, check=True)
        if bare:
            subprocess.run(pip + ["--no-deps"] + bare, check=True)
    os.execv(str(python), [str(python), sys.argv[0]] + sys.argv[1:])


def box_iou(a: list[float], b: list[float]) -> float:
    """Intersection over union of (x1, y1, x2, y2) boxes in continuous coordinates."""
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def reference_images_are_current(path: Path, generator_version: int, images: list[str], assets: Path) -> dict | None:
    """The manifest at `path` when this generator wrote it for exactly `images` (relative to
    `assets`) as they are on disk now; None when it must be made again."""
    manifest = read_manifest(path, generator_version)
    if manifest is None:
        return None
    try:
        entries = manifest["images"]
        if [entry["image"] for entry in entries] != images:
            return None
        current = all((assets / entry["image"]).is_file()
                      and sha256_of_file(assets / entry["image"]) == entry["sha256"] for entry in entries)
        return manifest if current else None
    except (ValueError, KeyError, TypeError):
        return None


def visionc_results(binary: str, graph: Path, path: str) -> list[dict] | None:
    """What `visionc run GRAPH PATH --json` gives as `results`; None (said on stdout) when it fails."""
    run = subprocess.run([binary, "run", str(graph), path, "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        print(f"{path}: visionc failed: {run.stderr.strip()}")
        return None
    return json.loads(run.stdout.splitlines()[0])["results"]
