#!/usr/bin/env python3
"""Writes the small committed files in Tests/Data/ that tests use without assets/.

Made from assets/images/chelsea.png (run scripts/setup first) with Pillow, whose
version requirements.txt pins, so a rerun gives the same bytes. Run it with the venv's
python after changing what is made here, and commit the results; CI never runs it.

    chelsea-small.jpg        150x100 RGB, baseline, 4:2:0, quality 85
    chelsea-small.rgb        chelsea-small.jpg decoded by Pillow (libjpeg-turbo, islow
                             IDCT, fancy upsampling): 150*100*3 bytes, RGB, row-major
    chelsea-progressive.jpg  the same pixels as a progressive JPEG, 4:4:4
    chelsea-gray.jpg         one channel (luma), baseline
    chelsea-cmyk.jpg         four channels, Adobe CMYK (TurboJPEG cannot decode it to RGB)
    chelsea-truncated.jpg    the first 60% of chelsea-small.jpg's bytes
    not-a-jpeg.png           an 8x8 PNG

Full-size (451x300) files for scan pruning and restart bands; the last three are rewritten
losslessly by jpegtran (Debian libjpeg-turbo-progs; JPEGTRAN overrides the path):

    chelsea-progressive-420.jpg    progressive 4:2:0, libjpeg's standard script (DC
                                   successive approximation: Al=1, then a refinement)
    chelsea-progressive-444.jpg    the same, 4:4:4
    chelsea-progressive-bands.jpg  4:4:4 with PROGRESSIVE_SCRIPT below: DC without successive
                                   approximation, and AC bands only 1/4 or 1/2 can skip
    chelsea-restart-420.jpg        baseline 4:2:0, a restart marker every MCU row
    chelsea-restart-444.jpg        baseline 4:4:4, a restart marker every MCU row
    chelsea-restart-unaligned.jpg  baseline 4:2:0, a restart marker every 5 MCUs (29 per row)
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import os
import subprocess
import tempfile

from PIL import Image

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE = REPO_ROOT / "assets" / "images" / "chelsea.png"
DATA_DIR = REPO_ROOT / "Tests" / "Data"
SMALL_SIZE = (150, 100)
QUALITY = 85
TRUNCATED_FRACTION = 0.6
JPEGTRAN = os.environ.get("JPEGTRAN", "jpegtran")
# jpegtran -scans syntax: components: Ss-Se, Ah, Al. Coefficient 3 (row 2, column 0) is never
# read by the 2x2 IDCT of a 1/4 decode, coefficient 10 (row 4, column 0) never by the 4x4 IDCT
# of a 1/2 decode; coefficient 3 also gets a refinement scan, which must go with its band.
PROGRESSIVE_SCRIPT = """\
0,1,2: 0-0, 0, 0;
0: 1-2, 0, 0;
0: 3-3, 0, 1;
0: 4-9, 0, 0;
0: 10-10, 0, 0;
0: 11-63, 0, 0;
1: 1-63, 0, 0;
2: 1-63, 0, 0;
0: 3-3, 1, 0;
"""


def jpeg_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=QUALITY, **options)
    return buffer.getvalue()


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def jpegtran(jpeg: bytes, *arguments: str) -> bytes:
    return subprocess.run([JPEGTRAN, *arguments], input=jpeg, capture_output=True, check=True).stdout


def with_scan_script(jpeg: bytes, script: str) -> bytes:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as file:
        file.write(script)
        file.flush()
        return jpegtran(jpeg, "-scans", file.name)


def test_files(source: Image.Image) -> dict[str, bytes]:
    small = source.convert("RGB").resize(SMALL_SIZE, Image.Resampling.LANCZOS)
    small_jpeg = jpeg_bytes(small, subsampling="4:2:0")
    with Image.open(io.BytesIO(small_jpeg)) as decoded:
        decoded_pixels = decoded.convert("RGB").tobytes()
    gradient = Image.linear_gradient("L").resize((8, 8)).convert("RGB")
    return {
        "chelsea-small.jpg": small_jpeg,
        "chelsea-small.rgb": decoded_pixels,
        "chelsea-progressive.jpg": jpeg_bytes(small, progressive=True, subsampling="4:4:4"),
        "chelsea-gray.jpg": jpeg_bytes(small.convert("L")),
        "chelsea-cmyk.jpg": jpeg_bytes(small.convert("CMYK")),
        "chelsea-truncated.jpg": small_jpeg[: int(len(small_jpeg) * TRUNCATED_FRACTION)],
        "not-a-jpeg.png": png_bytes(gradient),
        **full_size_files(source.convert("RGB")),
    }


def full_size_files(image: Image.Image) -> dict[str, bytes]:
    baseline_420 = jpeg_bytes(image, subsampling="4:2:0")
    baseline_444 = jpeg_bytes(image, subsampling="4:4:4")
    return {
        "chelsea-progressive-420.jpg": jpeg_bytes(image, progressive=True, subsampling="4:2:0"),
        "chelsea-progressive-444.jpg": jpeg_bytes(image, progressive=True, subsampling="4:4:4"),
        "chelsea-progressive-bands.jpg": with_scan_script(baseline_444, PROGRESSIVE_SCRIPT),
        "chelsea-restart-420.jpg": jpegtran(baseline_420, "-restart", "1"),
        "chelsea-restart-444.jpg": jpegtran(baseline_444, "-restart", "1"),
        "chelsea-restart-unaligned.jpg": jpegtran(baseline_420, "-restart", "5B"),
    }


def main() -> int:
    if not SOURCE.is_file():
        print(f"make_test_data: error: {SOURCE} is missing; run scripts/setup first", file=sys.stderr)
        return 1
    with Image.open(SOURCE) as source:
        files = test_files(source)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (DATA_DIR / name).write_bytes(content)
        print(f"make_test_data: Tests/Data/{name} ({len(content):,} bytes)")
    print(f"make_test_data: {sum(len(content) for content in files.values()):,} bytes in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
