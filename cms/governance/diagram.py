"""The model's diagram (one hub, its components) as inline SVG, drawn on the server: readable without
JavaScript, and printable.

The hub sits in the middle; the components sit on an ellipse around it, each linked to its page,
with one marker per street that runs it (filled: running or expanding; half: pilot; outline: planned).
The adoption table next to it carries the same information for screen readers.
"""

from __future__ import annotations

import math

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT = 620, 640
CX, CY = 310, 320
RX, RY = 230, 270
BOX_W, BOX_H = 132, 84
HUB_W, HUB_H = 160, 96
CHARS_PER_LINE = 6
FONT = 20


def wrap(text: str, width: int = CHARS_PER_LINE, lines: int = 2) -> list[str]:
    text = text.replace("“", "").replace("”", "").replace('"', "")
    out = [text[i : i + width] for i in range(0, len(text), width)][:lines]
    if len(text) > width * lines:
        out[-1] = out[-1][: width - 1] + "…"
    return out


def _markers(cells, streets, x: float, y: float) -> str:
    parts = []
    n = len(streets)
    step = 34
    start = x - (n - 1) * step / 2
    for i, (street, cell) in enumerate(zip(streets, cells, strict=True)):
        mx = start + i * step
        label = street.name[0]
        if cell is None:
            parts.append(
                f'<text x="{mx:.0f}" y="{y + 6:.0f}" class="m-none" text-anchor="middle" aria-hidden="true">·</text>'
            )
            continue
        cls = {"running": "m-run", "expanding": "m-run", "pilot": "m-pilot"}.get(cell.stage, "m-plan")
        parts.append(
            f'<g class="{cls}"><title>{escape(street.name)}：{escape(cell.stage_label)}</title>'
            f'<circle cx="{mx:.0f}" cy="{y:.0f}" r="13"/>'
            f'<text x="{mx:.0f}" y="{y + 5:.0f}" text-anchor="middle">{escape(label)}</text></g>'
        )
    return "".join(parts)


def _box(x: float, y: float, w: float, h: float, url: str, lines: list[str], cells, streets, cls: str) -> str:
    text_y = y - (h / 2) + 28 + (10 if len(lines) == 1 else 0) if streets else y - (len(lines) - 1) * 12 + 6
    texts = "".join(
        f'<text x="{x:.0f}" y="{text_y + i * 24:.0f}" text-anchor="middle">{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    markers = _markers(cells, streets, x, y + h / 2 - 18) if streets and cells is not None else ""
    return (
        f'<a href="{escape(url)}" class="{cls}">'
        f'<rect x="{x - w / 2:.0f}" y="{y - h / 2:.0f}" width="{w:.0f}" height="{h:.0f}" rx="10"/>'
        f"{texts}{markers}</a>"
    )


def model_diagram(index_page, components, rows, streets) -> str:
    """SVG markup of the model: the hub (role "hub") in the middle, the other components around it."""
    cells_of = {row["component"].pk: row["cells"] for row in rows}
    hubs = [c for c in components if c.role == "hub"]
    others = [c for c in components if c.role != "hub"]
    hub_names = escape("、".join(h.title for h in hubs) or "联动机制")
    parts = [
        f'<svg class="model-diagram" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-labelledby="model-diagram-title"'
        f' xmlns="http://www.w3.org/2000/svg" font-size="{FONT}">',
        f'<title id="model-diagram-title">模式示意图：中间是{hub_names}，'
        f"周围是 {len(others)} 个组件；圆点表示运行该组件的街道</title>",
    ]
    positions = []
    for i, component in enumerate(others):
        angle = -math.pi / 2 + 2 * math.pi * i / max(len(others), 1)
        positions.append((component, CX + RX * math.cos(angle), CY + RY * math.sin(angle)))
    for _component, x, y in positions:
        parts.append(f'<line x1="{CX}" y1="{CY}" x2="{x:.0f}" y2="{y:.0f}" class="spoke"/>')
    for component, x, y in positions:
        parts.append(
            _box(
                x,
                y,
                BOX_W,
                BOX_H,
                component.url or "#",
                wrap(component.display_short_name),
                cells_of.get(component.pk),
                streets,
                "node",
            )
        )
    if hubs:
        hub = hubs[0]
        parts.append(
            _box(
                CX,
                CY,
                HUB_W,
                HUB_H,
                hub.url or "#",
                ["1", *wrap(hub.display_short_name, 7, 1)],
                cells_of.get(hub.pk),
                streets,
                "node node--hub",
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
