"""What the reference generators (make_references.py, make_model_references.py,
compare_faces.py --reference) share: the error they raise, tensor files in the layout the
Swift tests read (little-endian float32, C order, as .npy and as raw .f32), the manifest
read back and written last, and the script entry point."""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Callable

RAW_FORMAT = "little-endian float32, C order, no header"


class ReferenceError(Exception):
    """A reference could not be computed; the message says which and why."""


def sha256_of_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_tensor(directory: Path, stem: str, array) -> dict:
    """Writes `stem.npy` and `stem.f32`; returns the manifest fields that name them."""
    import numpy as np

    little_endian = np.ascontiguousarray(array, dtype="<f4")
    np.save(directory / f"{stem}.npy", little_endian)
    (directory / f"{stem}.f32").write_bytes(little_endian.tobytes())
    return {"shape": list(little_endian.shape), "dtype": "float32", "npy": f"{stem}.npy", "raw": f"{stem}.f32"}


def read_manifest(path: Path, generator_version: int) -> dict | None:
    """The manifest at `path` when it exists, parses and was written by this generator
    version; None otherwise (the references must be made again)."""
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text())
    except ValueError:
        return None
    return manifest if isinstance(manifest, dict) and manifest.get("generator_version") == generator_version else None


def write_manifest(path: Path, manifest: dict) -> None:
    """Written last and atomically: its presence says every file it lists is complete."""
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(temporary, path)


def run_generator(tool: str, is_current: Callable[[], bool], make: Callable[[], None]) -> int:
    """Skips the work when the references on disk are current; a ReferenceError is one line
    on stderr and exit status 1."""
    if is_current():
        print(f"{tool}: references up to date", flush=True)
        return 0
    try:
        make()
    except ReferenceError as error:
        print(f"{tool}: error: {error}", file=sys.stderr)
        return 1
    return 0
