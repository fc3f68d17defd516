#!/usr/bin/env python
"""Draw the web app's PNG icons from our own mark (the drawing in site_templates/static/img/favicon.svg).

    .venv/bin/python tools/make_icons.py

Writes to site_templates/static/img/:
  icon-192.png, icon-512.png   the mark on a rounded blue square, transparent corners (purpose "any")
  icon-maskable-512.png        the mark smaller, on a full blue square (purpose "maskable": launchers cut it to a
                               circle, a squircle or a rounded square; everything that matters is inside the
                               central circle of 80 % of the width, the safe zone of the W3C manifest spec)

The drawing, in the favicon's 32-unit square: a white parcel (x 8–24, y 12–24) under an amber roof line
(8,12 → 16,7 → 24,12, 2.5 units wide). Drawn four times larger and scaled down, for smooth edges.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "site_templates" / "static" / "img"
BLUE = (11, 79, 138, 255)
AMBER = (245, 158, 11, 255)
WHITE = (255, 255, 255, 255)
SUPERSAMPLE = 4


def draw(size: int, *, maskable: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    unit = big / 32
    if maskable:
        pen.rectangle((0, 0, big, big), fill=BLUE)
        scale = 0.8  # the parcel and roof shrink towards the centre, well inside the safe circle
    else:
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=6 * unit, fill=BLUE)
        scale = 1.0

    def at(x: float, y: float) -> tuple[float, float]:
        # favicon units → pixels; the mark's centre (16, 15.5) stays at the centre of the icon
        return ((16 + (x - 16) * scale) * unit, (16 + (y - 15.5) * scale) * unit)

    pen.rectangle((*at(8, 12), *at(24, 24)), fill=WHITE)
    roof = [at(8, 12), at(16, 7), at(24, 12)]
    width = round(2.5 * unit * scale)
    pen.line(roof, fill=AMBER, width=width, joint="curve")
    for x, y in (roof[0], roof[-1]):  # round ends: at 512 px a butt end shows as a notch
        r = width / 2
        pen.ellipse((x - r, y - r, x + r, y + r), fill=AMBER)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, size, maskable in (
        ("icon-192.png", 192, False),
        ("icon-512.png", 512, False),
        ("icon-maskable-512.png", 512, True),
    ):
        path = OUT / name
        draw(size, maskable=maskable).save(path, optimize=True)
        print(f"{path.relative_to(OUT.parent.parent.parent)}  {size}×{size}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
