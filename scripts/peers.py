"""Shared by scripts/compare and scripts/bench-models: the peer runtimes' venv and visionc
(the agreement scripts' own peer venvs are scripts/peer_venv.py's).

The peers (ONNX Runtime, OpenVINO, Pillow) live in their own venv, .venv-peers, made from
requirements-peers.txt on first use, so the test set-up (.venv) stays light.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PEERS_VENV = REPO_ROOT / ".venv-peers"
REQUIREMENTS = REPO_ROOT / "requirements-peers.txt"


def ensure_peers_venv() -> None:
    """Re-executes the calling script with .venv-peers' python, creating or updating the
    venv first when requirements-peers.txt changed (a hash stamp, as scripts/setup does)."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".requirements.sha256"
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not python.exists():
        print(f"peers: creating {PEERS_VENV.name} (first run)", file=sys.stderr, flush=True)
        venv.EnvBuilder(with_pip=True).create(PEERS_VENV)
    if not stamp.is_file() or stamp.read_text().strip() != wanted:
        print(f"peers: installing {REQUIREMENTS.name} into {PEERS_VENV.name}", file=sys.stderr, flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--requirement", str(REQUIREMENTS)], check=True)
        stamp.write_text(wanted + "\n")
    if Path(sys.prefix).resolve() != PEERS_VENV.resolve():
        os.execv(str(python), [str(python), *sys.argv])


def visionc_binary() -> Path:
    """The visionc to measure: $VISIONC when set, else a release build (a no-op when up to date)."""
    if os.environ.get("VISIONC"):
        return Path(os.environ["VISIONC"])
    subprocess.run(["swift", "build", "-c", "release", "--product", "visionc"], cwd=REPO_ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO_ROOT, check=True,
                             capture_output=True, text=True).stdout.strip()
    return Path(bin_dir) / "visionc"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy.percentile's default), q in 0…100."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = q / 100 * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for line in [headers, *rows]:
        print("  ".join(str(cell).ljust(width) if i == 0 else str(cell).rjust(width)
                        for i, (cell, width) in enumerate(zip(line, widths))).rstrip())
