#!/usr/bin/env python3
"""Renders assets/images/report-page.jpg: an A4 page at 150 dpi (1240×1754) laid out as a
report — running header, title, section heading, paragraphs, a bar chart with its caption, a
table with its caption, a page number — so the layout detector (Graphs/detect-layout.yaml)
is checked on one page with most of its classes, not only on the OCR test pages.

Drawn with Pillow's built-in font (`ImageFont.load_default(size)`, FreeType) and a seeded
random generator, so the same Pillow build (requirements.txt pins it) renders the same page.
scripts/fetch_assets.py calls `render`; run alone: scripts/render_report_page.py OUT.jpg.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

WIDTH, HEIGHT = 1240, 1754
JPEG_QUALITY = 90
WORDS = ("layout detection compiler pipeline graph image decode resize normalize tensor kernel model "
         "batch queue stage plan runtime vision document page table figure caption result score box "
         "the of and to in a is for with on by as that from this are be it an").split()


def render(path: Path) -> None:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    rng = random.Random(15)

    def font(size: int):
        return ImageFont.load_default(size=size)

    def paragraph(x: int, y: int, width: int, lines: int, size: int = 22, gap: int = 34) -> int:
        """Random words filling `lines` lines of `width` px (the last one 60 %); the y below it."""
        face = font(size)
        for line in range(lines):
            text = ""
            limit = width if line < lines - 1 else width * 0.6
            while True:
                candidate = (text + " " + rng.choice(WORDS)).strip()
                if draw.textlength(candidate, font=face) > limit:
                    break
                text = candidate
            draw.text((x, y + line * gap), text, fill="black", font=face)
        return y + lines * gap

    draw.text((100, 60), "visionc technical report", fill=(90, 90, 90), font=font(18))
    draw.line((100, 90, WIDTH - 100, 90), fill=(150, 150, 150), width=1)
    draw.text((100, 140), "Compiling Vision Pipelines as Dataflow Graphs", fill="black", font=font(46))
    y = paragraph(100, 240, WIDTH - 200, 7)
    draw.text((100, y + 40), "1 Introduction", fill="black", font=font(32))
    y = paragraph(100, y + 100, WIDTH - 200, 6)

    left, top = 250, y + 50  # a bar chart
    draw.rectangle((left, top, left + 740, top + 380), outline="black", width=2)
    for bar in range(8):
        height = rng.randint(60, 330)
        draw.rectangle((left + 40 + bar * 85, top + 370 - height, left + 95 + bar * 85, top + 370),
                       fill=(60 + 20 * bar, 100, 200 - 15 * bar))
    draw.text((left + 60, top + 400), "Figure 1: Time per stage of the pipeline on a 2-core machine.", fill="black", font=font(22))

    y = top + 470  # a table
    draw.text((220, y), "Table 1: Latency by graph and optimization level (ms).", fill="black", font=font(22))
    table_top, columns = y + 45, [220, 470, 680, 850]
    for row in range(6):
        draw.line((220, table_top + row * 44, 1020, table_top + row * 44), fill="black", width=2 if row in (0, 1, 5) else 1)
        if row == 5:
            break
        for column, x in enumerate(columns):
            if row == 0:
                text = ["graph", "O0", "O2", "fast"][column]
            else:
                text = ["classify", "ocr", "faces", "layout"][row - 1] if column == 0 else f"{rng.uniform(1, 90):.2f}"
            draw.text((x + 12, table_top + row * 44 + 10), text, fill="black", font=font(22))
    paragraph(100, table_top + 5 * 44 + 50, WIDTH - 200, 5)
    draw.text((WIDTH // 2 - 10, HEIGHT - 80), "3", fill="black", font=font(20))

    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".partial")
    image.save(temporary, format="JPEG", quality=JPEG_QUALITY)
    temporary.replace(path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    render(Path(sys.argv[1]))
