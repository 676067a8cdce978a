"""The PNG charts: valid images, white background, spikes marked where they happened, shoe colours."""

from __future__ import annotations

import datetime as dt
import io

from PIL import Image, ImageChops

from pipeline.digest.charts import (
    CSS_WIDTH,
    OK,
    SCALE,
    WARNING,
    WATCH,
    ShoeBar,
    WeekBar,
    shoe_mileage_png,
    weekly_distance_png,
)

MONDAY = dt.date(2026, 11, 16)


def weeks(spike_at: int | None = None) -> list[WeekBar]:
    return [
        WeekBar(MONDAY - dt.timedelta(weeks=11 - i), 20.0 + i, spike=i == spike_at, current=i == 11) for i in range(12)
    ]


def image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def count(img: Image.Image, colour: tuple[int, int, int]) -> int:
    mask = ImageChops.difference(img, Image.new("RGB", img.size, colour)).convert("L").point(lambda v: 255 * (v < 8))
    return mask.histogram()[255]


def test_weekly_chart_is_a_png_drawn_at_twice_the_email_width():
    png = weekly_distance_png(weeks())
    assert png.startswith(b"\x89PNG")
    img = image(png)
    assert img.width == CSS_WIDTH * SCALE
    assert img.getpixel((img.width - 1, img.height - 1)) == (255, 255, 255)  # blends into the email


def test_spike_marker_sits_over_the_spike_week():
    plain = image(weekly_distance_png(weeks()))
    early = ImageChops.difference(plain, image(weekly_distance_png(weeks(spike_at=1)))).getbbox()
    late = ImageChops.difference(plain, image(weekly_distance_png(weeks(spike_at=10)))).getbbox()
    assert early is not None and late is not None
    assert (early[0] + early[2]) / 2 < plain.width * 0.3
    assert (late[0] + late[2]) / 2 > plain.width * 0.7


def test_weeks_without_runs_and_an_all_zero_history_still_draw():
    empty = [WeekBar(MONDAY - dt.timedelta(weeks=11 - i), 0.0, current=i == 11) for i in range(12)]
    assert image(weekly_distance_png(empty)).width == CSS_WIDTH * SCALE


def test_shoe_bar_colour_follows_the_thresholds():
    def bar_pixels(km: float, colour) -> int:
        return count(image(shoe_mileage_png([ShoeBar("Pegasus", km, 600.0, 800.0)])), colour)

    assert bar_pixels(812, WARNING) > bar_pixels(300, WARNING) + 10_000  # the bar itself, not the legend
    assert bar_pixels(650, WATCH) > bar_pixels(300, WATCH) + 10_000
    assert bar_pixels(300, OK) > 5_000 and bar_pixels(812, OK) == 0


def test_shoe_chart_grows_with_the_number_of_shoes():
    one = image(shoe_mileage_png([ShoeBar("A", 100, 600, 800)]))
    three = image(shoe_mileage_png([ShoeBar(n, 100, 600, 800) for n in "ABC"]))
    assert three.height > one.height
