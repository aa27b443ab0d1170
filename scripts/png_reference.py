#!/usr/bin/env python3
"""PNG test images and what Pillow makes of them, for visionc's PNG decoder tests.

    png_reference.py SOURCE.jpg OUT_DIR

Writes OUT_DIR/NAME.png for every PNG kind the decoder must read (8-bit RGB, RGBA, gray,
gray+alpha, palette with and without transparency, 1-bit, 16-bit RGB and gray, Adam7
interlaced), cut from SOURCE, and beside each NAME.rgb.raw and NAME.gray.raw: Pillow's
convert("RGB") and convert("L") pixels, row-major uint8. For 16-bit gray, which Pillow opens
as a 32-bit integer image and clips rather than scales, the reference is the high byte of each
sample, as the decoder documents. Prints one line per image: NAME WIDTH HEIGHT.
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    # An odd size, so row strides and interlace passes are not all multiples of 8.
    rgb = Image.open(source).convert("RGB").crop((10, 20, 10 + 131, 20 + 77))
    array = np.asarray(rgb)
    alpha = Image.fromarray((np.arange(131 * 77) % 256).astype(np.uint8).reshape(77, 131))
    images = {
        "rgb8": (rgb, {}),
        "rgba8": (Image.merge("RGBA", (*rgb.split(), alpha)), {}),
        "gray8": (rgb.convert("L"), {}),
        "graya8": (Image.merge("LA", (rgb.convert("L"), alpha)), {}),
        "palette": (rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=37), {}),
        "palette-trns": (rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16), {"transparency": 3}),
        "gray1": (rgb.convert("1"), {}),
    }
    for name, (image, options) in images.items():
        image.save(out / f"{name}.png", **options)
    # 16 bits per sample: Pillow writes 16-bit RGB only through raw data, so build those by hand
    # with distinct low bytes, which a correct decoder drops.
    wide = (array.astype(np.uint16) << 8) | np.uint16(0x5A)
    write_png(out / "rgb16.png", wide, color_type=2)
    gray16 = (np.asarray(rgb.convert("L")).astype(np.uint16) << 8) | np.uint16(0xA5)
    write_png(out / "gray16.png", gray16[:, :, None], color_type=0)
    # Pillow cannot write Adam7 interlacing; libpng must read it.
    write_png(out / "interlaced.png", array, color_type=2, interlaced=True)

    for path in sorted(out.glob("*.png")):
        name = path.stem
        image = Image.open(path)
        if name == "gray16":
            gray = (np.asarray(image).astype(np.uint32) >> 8).astype(np.uint8)
            rgb_ref, gray_ref = np.repeat(gray[:, :, None], 3, axis=2), gray
        else:
            rgb_ref, gray_ref = np.asarray(image.convert("RGB")), np.asarray(image.convert("L"))
        (out / f"{name}.rgb.raw").write_bytes(np.ascontiguousarray(rgb_ref, dtype=np.uint8).tobytes())
        (out / f"{name}.gray.raw").write_bytes(np.ascontiguousarray(gray_ref, dtype=np.uint8).tobytes())
        print(name, image.width, image.height)


def write_png(path: Path, samples: np.ndarray, color_type: int, interlaced: bool = False) -> None:
    """A PNG from (h, w, c) uint8 or uint16 samples (filter 0 on every row), Adam7 when
    `interlaced`, with zlib and the chunk CRCs."""
    import struct
    import zlib

    height, width, _ = samples.shape
    depth = 16 if samples.dtype == np.uint16 else 8
    big_endian = samples.astype(">u2") if depth == 16 else samples.astype(np.uint8)
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] if interlaced else [(0, 0, 1, 1)]
    data = b""
    for x0, y0, dx, dy in passes:
        sub = big_endian[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        data += b"".join(b"\x00" + row.tobytes() for row in sub)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 1 if interlaced else 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b""))


if __name__ == "__main__":
    main()
