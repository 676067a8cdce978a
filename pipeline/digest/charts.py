"""PNG charts for the digest, drawn directly with Pillow.

Mail clients block scripts and most SVG, so the charts are inline PNGs. They are drawn at
twice their display size (crisp on phones) with a small palette, which keeps one chart at a
few milliseconds and a few kilobytes: 1,000 digests must render in well under a minute.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

SCALE = 2  # drawn at 2x the CSS size the email shows
CSS_WIDTH = 420  # designed for a phone; the email stretches it up to 560 px on wider screens
WIDTH = CSS_WIDTH * SCALE

INK = (40, 44, 52)
MUTED = (110, 116, 128)
GRID = (226, 229, 234)
BAR = (148, 178, 214)
BAR_CURRENT = (46, 98, 160)
SPIKE = (196, 60, 38)
OK = (76, 140, 96)
WATCH = (214, 140, 20)
WARNING = (196, 60, 38)
RETIRED = (190, 194, 200)
TRACK = (238, 240, 243)
WHITE = (255, 255, 255)

_FONT_FILES = ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_BOLD_FILES = (
    "DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
)


@dataclass(frozen=True)
class WeekBar:
    """One week of the distance chart."""

    week_start: dt.date
    distance_km: float
    spike: bool = False  # a single-run spike rule fired that week
    current: bool = False  # the week the digest reports


@dataclass(frozen=True)
class ShoeBar:
    """One shoe of the mileage chart."""

    name: str
    distance_km: float
    watch_km: float | None
    warning_km: float | None
    retired: bool = False


@functools.lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for name in _BOLD_FILES if bold else _FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


@functools.lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """Every chart colour blended towards white in steps (for anti-aliased edges), plus white.

    A fixed palette keeps white white and each colour exact, unlike an adaptive one.
    """
    colours: list[tuple[int, ...]] = [WHITE]
    for colour in (INK, MUTED, GRID, BAR, BAR_CURRENT, SPIKE, OK, WATCH, WARNING, RETIRED, TRACK):
        for step in range(1, 17):
            blend = tuple(round(255 + (c - 255) * step / 16) for c in colour)
            # Near-whites would steal pure white: the palette lookup works at reduced precision.
            if min(blend) < 246 and blend not in colours:
                colours.append(blend)
    for colour in (GRID, TRACK):
        if colour not in colours:
            colours.append(colour)
    flat = [v for colour in colours for v in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + list(WHITE) * (256 - len(colours)))
    return image


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    # Palette PNGs encode faster and are a third of the size; flat colour compresses well even
    # at zlib level 1.
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(buf, "PNG", compress_level=1)
    return buf.getvalue()


def _nice_max(value: float) -> tuple[float, float]:
    """A round axis maximum >= value and its gridline step."""
    if value <= 0:
        return 10.0, 5.0
    raw_step = value / 4
    magnitude = 10 ** math.floor(math.log10(raw_step))
    for mult in (1, 2, 2.5, 5, 10):
        step = mult * magnitude
        if step >= raw_step:
            break
    return step * math.ceil(value / step), step


def _fmt_km(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _dashed_hline(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int, fill: tuple, width: int) -> None:
    dash = 10 * SCALE // 2
    for x in range(x0, x1, dash * 2):
        draw.line([(x, y), (min(x + dash, x1), y)], fill=fill, width=width)


def _dashed_vline(draw: ImageDraw.ImageDraw, x: int, y0: int, y1: int, fill: tuple, width: int) -> None:
    dash = 6 * SCALE
    for y in range(y0, y1, dash * 2):
        draw.line([(x, y), (x, min(y + dash, y1))], fill=fill, width=width)


@dataclass(frozen=True)
class _Plot:
    """The plot area of a chart, in pixels, and the km scale of its y axis."""

    left: int
    right: int
    top: int
    bottom: int
    axis_max: float

    def y_of(self, km: float) -> int:
        return self.bottom - round((self.bottom - self.top) * max(km, 0.0) / self.axis_max)


def weekly_distance_png(weeks: Sequence[WeekBar]) -> bytes:
    """Bars of weekly km (oldest left), the reported week darker, spike weeks marked in red."""
    s = SCALE
    height = 240 * s
    img = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(img)
    small = _font(14 * s)
    peak = max((w.distance_km for w in weeks), default=0.0)
    axis_max, step = _nice_max(peak * 1.08)
    plot = _Plot(34 * s, WIDTH - 6 * s, 38 * s, height - 26 * s, axis_max)
    _distance_legend(draw, plot.left, small)
    _distance_axis(draw, plot, step, small)
    _distance_bars(draw, plot, weeks, small)
    draw.line([(plot.left, plot.bottom), (plot.right, plot.bottom)], fill=MUTED, width=s)
    return _png(img)


def _distance_legend(draw: ImageDraw.ImageDraw, x: int, font: ImageFont.FreeTypeFont | ImageFont.ImageFont) -> None:
    """Legend, top left: what the colours mean (the alt text says the same in words)."""
    s = SCALE
    for colour, text in (
        (BAR_CURRENT, "this week"),
        (BAR, "earlier weeks"),
        (SPIKE, "long-run spike"),
    ):
        if colour == SPIKE:
            draw.polygon([(x, 20 * s), (x + 12 * s, 20 * s), (x + 6 * s, 10 * s)], fill=SPIKE)
        else:
            draw.rectangle([x, 9 * s, x + 12 * s, 21 * s], fill=colour)
        draw.text((x + 17 * s, 8 * s), text, font=font, fill=MUTED)
        x += int(draw.textlength(text, font=font)) + 22 * s


def _distance_axis(
    draw: ImageDraw.ImageDraw, plot: _Plot, step: float, font: ImageFont.FreeTypeFont | ImageFont.ImageFont
) -> None:
    """Grid lines with their km labels, and the unit above the axis."""
    s = SCALE
    tick = 0.0
    while tick <= plot.axis_max + 1e-9:
        y = plot.y_of(tick)
        draw.line([(plot.left, y), (plot.right, y)], fill=GRID, width=s)
        text = _fmt_km(tick)
        draw.text((plot.left - 6 * s - draw.textlength(text, font=font), y - 7 * s), text, font=font, fill=MUTED)
        tick += step
    draw.text((plot.left - 6 * s - draw.textlength("km", font=font), plot.top - 26 * s), "km", font=font, fill=MUTED)


def _distance_bars(
    draw: ImageDraw.ImageDraw,
    plot: _Plot,
    weeks: Sequence[WeekBar],
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
) -> None:
    """One bar per week, a red marker over spike weeks, and week labels (every other on narrow slots)."""
    s = SCALE
    n = max(len(weeks), 1)
    slot = (plot.right - plot.left) / n
    bar_w = max(int(slot * 0.62), 2 * s)
    label_every = 1 if slot >= 52 * s else 2
    for i, week in enumerate(weeks):
        cx = int(plot.left + slot * (i + 0.5))
        y = plot.y_of(week.distance_km)
        if week.distance_km > 0:
            colour = BAR_CURRENT if week.current else BAR
            draw.rectangle([cx - bar_w // 2, y, cx + bar_w // 2, plot.bottom], fill=colour)
        if week.spike:
            ty = y - 6 * s
            draw.polygon([(cx - 8 * s, ty), (cx + 8 * s, ty), (cx, ty - 13 * s)], fill=SPIKE)
        if (n - 1 - i) % label_every == 0:
            text = f"{week.week_start.day} {week.week_start:%b}"
            tw = draw.textlength(text, font=font)
            position = (min(max(cx - tw / 2, 0), WIDTH - tw - s), plot.bottom + 7 * s)
            draw.text(position, text, font=font, fill=INK if week.current else MUTED)


def shoe_status_colour(shoe: ShoeBar) -> tuple[int, int, int]:
    if shoe.retired:
        return RETIRED
    if shoe.warning_km is not None and shoe.distance_km >= shoe.warning_km:
        return WARNING
    if shoe.watch_km is not None and shoe.distance_km >= shoe.watch_km:
        return WATCH
    return OK


def shoe_mileage_png(shoes: Sequence[ShoeBar]) -> bytes:
    """Horizontal bars of km per shoe, with dashed lines at the watch and warning thresholds."""
    s = SCALE
    row_h = 46 * s
    top = 34 * s
    height = top + row_h * max(len(shoes), 1) + 26 * s
    img = Image.new("RGB", (WIDTH, height), "white")
    draw = ImageDraw.Draw(img)
    small, name_font = _font(14 * s), _font(15 * s, bold=True)
    left, right = 4 * s, WIDTH - 64 * s

    watch = next((sh.watch_km for sh in shoes if sh.watch_km), None)
    warning = next((sh.warning_km for sh in shoes if sh.warning_km), None)
    peak = max([sh.distance_km for sh in shoes] + [warning or 0.0, watch or 0.0, 1.0])
    axis_max, _ = _nice_max(peak * 1.05)

    def x_of(km: float) -> int:
        return left + round((right - left) * max(km, 0.0) / axis_max)

    x = left
    legend = []
    if watch:
        legend.append((WATCH, f"check at {_fmt_km(watch)} km"))
    if warning:
        legend.append((WARNING, f"replace at {_fmt_km(warning)} km"))
    for colour, text in legend:
        _dashed_hline(draw, x, x + 18 * s, 15 * s, colour, 3 * s)
        draw.text((x + 24 * s, 8 * s), text, font=small, fill=MUTED)
        x += int(draw.textlength(text, font=small)) + 30 * s

    for i, shoe in enumerate(shoes):
        y = top + i * row_h
        name = shoe.name if len(shoe.name) <= 34 else shoe.name[:33] + "…"
        if shoe.retired:
            name += " (retired)"
        draw.text((left, y), name, font=name_font, fill=INK)
        by = y + 19 * s
        draw.rectangle([left, by, right, by + 16 * s], fill=TRACK)
        draw.rectangle(
            [left, by, max(x_of(shoe.distance_km), left + s), by + 16 * s],
            fill=shoe_status_colour(shoe),
        )
        draw.text(
            (x_of(shoe.distance_km) + 6 * s, by),
            f"{_fmt_km(shoe.distance_km)} km",
            font=small,
            fill=INK,
        )

    bottom = top + row_h * max(len(shoes), 1)
    for km, colour in ((watch, WATCH), (warning, WARNING)):
        if km:
            _dashed_vline(draw, x_of(km), top - 4 * s, bottom, colour, 2 * s)
    axis_text = f"scale 0-{_fmt_km(axis_max)} km; Strava's totals include walks"
    draw.text((left, bottom + 4 * s), axis_text, font=small, fill=MUTED)
    return _png(img)
