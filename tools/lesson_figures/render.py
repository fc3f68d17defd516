#!/usr/bin/env python
"""Render the lessons' figures (the SVG drawings beside this file, ours) to the PNG files the lessons use.

    .venv/bin/python tools/lesson_figures/render.py

Why PNG: content/ takes raster images only (JPEG, PNG, WebP, GIF; see content/README.md), and an image in a
lesson's body is an ordinary image block, which import and export carry both ways. The SVG is the drawing to
edit; this script draws it again at twice its size in Debian's Chromium (the Chinese labels in the system's Noto
Sans CJK) and writes a palette PNG into the course's images/ folder. Each figure shows only what its lesson's
text says; the lesson gives its alt text and labels it 示意插图.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
CONTENT = HERE.parent.parent / "content"
FIGURES = {  # drawing → the file the lesson's Markdown names
    "cpr-position.svg": "training/jijiu-changshi/images/xinfei-fusu-weizhi.png",
    "cpr-posture.svg": "training/jijiu-changshi/images/xinfei-fusu-zishi.png",
    "aed-pads.svg": "training/jijiu-changshi/images/aed-dianjipian.png",
}
SCALE = 3  # drawn for a phone's width (360 units); three times that for sharp lines on any screen
COLOURS = 64  # line drawings in a few flat colours: a palette keeps the file small


def main() -> None:
    with sync_playwright() as p:
        flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        for drawing, target in FIGURES.items():
            svg = (HERE / drawing).read_text(encoding="utf-8")
            width, height = (int(float(v)) for v in re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg).groups())
            page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=SCALE)
            sized = svg.replace("<svg ", f"<svg width={width} ", 1)
            page.set_content(f'<html><body style="margin:0">{sized}</body></html>')
            shot = page.screenshot(clip={"x": 0, "y": 0, "width": width, "height": height})
            page.close()
            image = Image.open(io.BytesIO(shot)).convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT)
            out = CONTENT / target
            out.parent.mkdir(parents=True, exist_ok=True)
            image.save(out, optimize=True)
            print(f"{out.relative_to(CONTENT.parent)}  {image.width}×{image.height}  {out.stat().st_size // 1024} KB")
        browser.close()


if __name__ == "__main__":
    main()
