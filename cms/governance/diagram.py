"""The model's diagram (one hub, its components) as inline SVG, drawn on the server: readable without
JavaScript, and printable.

Two drawings of the same model, one shown at a time by the stylesheet (the other is `display: none`, so a screen
reader meets one): the wide one, the hub in the middle and the components on an ellipse around it; and, below
40em, the tall one, the hub on top and the components in a column under it, drawn at the size a phone shows it
(text at 17 px in a box about 300 px wide, no sideways scrolling). Each component links to its page, with one
marker per street that runs it (filled: running or expanding; half: pilot; outline: planned). The adoption table
next to it carries the same information for screen readers.
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
# The tall drawing: a phone's diagram box is about 300 px wide (360 px less the page's and the box's padding).
TALL_W = 300
TALL_FONT = 17
TALL_ROW, TALL_GAP = 56, 10  # a component's box and the space under it
TALL_HUB_H = 60
TALL_TRUNK_X = 14  # the line the components hang from
TALL_STEP = 30  # between street markers
TALL_CHARS = 8


def wrap(text: str, width: int = CHARS_PER_LINE, lines: int = 2) -> list[str]:
    text = text.replace("“", "").replace("”", "").replace('"', "")
    out = [text[i : i + width] for i in range(0, len(text), width)][:lines]
    if len(text) > width * lines:
        out[-1] = out[-1][: width - 1] + "…"
    return out


def _markers(cells, streets, x: float, y: float, step: int = 34) -> str:
    parts = []
    n = len(streets)
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
    """SVG markup of the model, both drawings: the wide one and the tall one (see the module's docstring)."""
    wide = wide_diagram(index_page, components, rows, streets)
    return mark_safe(wide + tall_diagram(components, rows, streets))  # noqa: S308 - escaped where drawn


def _node(component, lines: list[str], cells_of: dict, streets) -> tuple:
    """What a component's box shows, after its place: link, name's lines, streets' cells, streets, class."""
    return (component.url or "#", lines, cells_of.get(component.pk), streets, "node")


def _tall_box(y: float, x0: float, h: float, url: str, lines: list[str], cells, streets, cls: str) -> str:
    """A box from x0 to the right edge: its name on the left, its streets' markers on the right."""
    text_y = y + h / 2 + 6 - (len(lines) - 1) * 10
    texts = "".join(
        f'<text x="{x0 + 12:.0f}" y="{text_y + i * 21:.0f}">{escape(line)}</text>' for i, line in enumerate(lines)
    )
    markers = ""
    if streets and cells is not None:
        group_x = TALL_W - 12 - 12 - (len(streets) - 1) * TALL_STEP / 2  # the last marker's edge 12 px from the box's
        markers = _markers(cells, streets, group_x, y + h / 2, TALL_STEP)
    return (
        f'<a href="{escape(url)}" class="{cls}">'
        f'<rect x="{x0:.0f}" y="{y:.0f}" width="{TALL_W - x0 - 1:.0f}" height="{h:.0f}" rx="8"/>'
        f"{texts}{markers}</a>"
    )


def tall_diagram(components, rows, streets) -> str:
    """The model for a phone: the hub on top, the components in a column hanging from a line under it."""
    cells_of = {row["component"].pk: row["cells"] for row in rows}
    hubs = [c for c in components if c.role == "hub"]
    others = [c for c in components if c.role != "hub"]
    hub_names = escape("、".join(h.title for h in hubs) or "联动机制")
    chars = TALL_CHARS + (3 - len(streets)) * 2  # fewer markers, more room for the name
    top = TALL_HUB_H + TALL_GAP if hubs else 0
    height = top + len(others) * (TALL_ROW + TALL_GAP)
    parts = [
        f'<svg class="model-diagram model-diagram--tall" viewBox="0 0 {TALL_W} {max(height, 1)}" role="group"'
        f' aria-labelledby="model-diagram-tall-title" xmlns="http://www.w3.org/2000/svg" font-size="{TALL_FONT}">',
        f'<title id="model-diagram-tall-title">模式示意图：上面是{hub_names}，'
        f"下面是 {len(others)} 个组件；圆点表示运行该组件的街道</title>",
    ]
    if others:
        last_y = top + (len(others) - 1) * (TALL_ROW + TALL_GAP) + TALL_ROW / 2
        parts.append(
            f'<line x1="{TALL_TRUNK_X}" y1="{top - TALL_GAP if hubs else 0}" x2="{TALL_TRUNK_X}"'
            f' y2="{last_y:.0f}" class="spoke"/>'
        )
    for i, component in enumerate(others):
        y = top + i * (TALL_ROW + TALL_GAP)
        parts.append(
            f'<line x1="{TALL_TRUNK_X}" y1="{y + TALL_ROW / 2:.0f}" x2="{TALL_TRUNK_X * 2}"'
            f' y2="{y + TALL_ROW / 2:.0f}" class="spoke"/>'
        )
        name = wrap(component.display_short_name, chars)
        parts.append(_tall_box(y, TALL_TRUNK_X * 2, TALL_ROW, *_node(component, name, cells_of, streets)))
    if hubs:
        hub = hubs[0]
        parts.append(
            _tall_box(
                0,
                1,
                TALL_HUB_H,
                hub.url or "#",
                wrap(f"1 {hub.display_short_name}", chars + 2, 1),
                cells_of.get(hub.pk),
                streets,
                "node node--hub",
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def wide_diagram(index_page, components, rows, streets) -> str:
    """The hub (role "hub") in the middle, the other components around it."""
    cells_of = {row["component"].pk: row["cells"] for row in rows}
    hubs = [c for c in components if c.role == "hub"]
    others = [c for c in components if c.role != "hub"]
    hub_names = escape("、".join(h.title for h in hubs) or "联动机制")
    parts = [
        f'<svg class="model-diagram model-diagram--wide" viewBox="0 0 {WIDTH} {HEIGHT}" role="group"'
        f' aria-labelledby="model-diagram-title"'
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
        parts.append(_box(x, y, BOX_W, BOX_H, *_node(component, wrap(component.display_short_name), cells_of, streets)))
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
    return "".join(parts)
