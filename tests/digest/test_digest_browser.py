"""The demo-like digest in a real browser (Debian's headless Chromium) at phone and desktop widths.

Chromium is installed by `bash scripts/ensure-chromium`; the test tries that itself and is
skipped, with the reason, only when Chromium cannot be installed.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
from pathlib import Path

import pytest
from conftest import WEEK, Warehouse
from digest_browser import CHROMIUM, Chromium
from PIL import Image

from pipeline.digest import send_digests

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]  # may install chromium first

REPO = Path(__file__).resolve().parents[2]
WIDTHS = (375, 800)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory) -> Chromium:
    if not CHROMIUM.exists():
        install = subprocess.run(
            ["bash", str(REPO / "scripts" / "ensure-chromium")], capture_output=True, text=True, timeout=900
        )
        if not CHROMIUM.exists():
            pytest.skip(f"chromium is not installed and could not be: {install.stderr.strip()[-300:]}")
    browser = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def preview(tmp_path_factory) -> Path:
    """The outbox preview of a busy, demo-like week: four fired factors, hostile text, three shoes."""
    home = tmp_path_factory.mktemp("home")
    from pipeline.config import Settings

    warehouse = Warehouse(Settings(home=home))
    warehouse.athlete(1, firstname="Alexandra-Konstantina")
    for i, km in enumerate([22, 25, 0, 31, 28, 44, 30, 33, 35, 29, 38, 52]):
        warehouse.week(1, WEEK - dt.timedelta(weeks=11 - i), float(km), runs=4, prev4_avg_km=33.75)
    warehouse.flag(
        1,
        "distance.single_run_spike",
        "warning",
        "moderate",
        "Your run 'Sunday_long_run_along_the_canal_towpath_and_back_again' (24.1 km) was 38% longer than "
        "any run in the previous 30 days (17.5 km).",
    )
    warehouse.flag(1, "distance.single_run_spike", "watch", "moderate", "x", week_start=WEEK - dt.timedelta(weeks=6))
    warehouse.flag(1, "injury.pain_notes", "warning", "strong", "You wrote '<b>lower back twinge</b>' on Tuesday.")
    warehouse.flag(1, "shoes.mileage", "watch", "rule_of_thumb", "Your Pegasus 40 have 812 km.")
    warehouse.flag(1, "posture.cadence", "watch", "limited", "Your cadence averaged 154 steps per minute.")
    warehouse.flag(1, "distance.weekly_change", "info", "limited", "This week was 54% above your 4-week average.")
    warehouse.shoe(1, "g1", "Pegasus 40", 812)
    warehouse.shoe(1, "g2", "Trail shoes with a very long name that goes on", 640)
    warehouse.shoe(1, "g3", "Racers", 120)
    warehouse.quarantined(1, 7, "2026-11-19T08:00:00")
    settings = warehouse.save()
    report = send_digests(settings, week=WEEK)
    assert report.ok, report
    return settings.outbox_dir / WEEK.isoformat() / "1.html"


@pytest.fixture(scope="module")
def shots_dir(tmp_path_factory) -> Path:
    """Screenshots go to $BACKSTRIDE_SCREENSHOTS when set (to look at them), else a temp folder."""
    target = os.environ.get("BACKSTRIDE_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize("width", WIDTHS)
def test_digest_renders_without_horizontal_overflow_and_charts_load(chromium, preview, shots_dir, width):
    session = chromium.open(preview.as_uri(), width)
    m = chromium.measure(session)

    assert m["clientWidth"] == width  # the emulated screen really is this wide
    assert m["scrollWidth"] <= m["innerWidth"], m
    assert m["widest"] <= width + 0.5, m
    assert len(m["images"]) == 2
    for image in m["images"]:
        assert image["complete"] and image["naturalWidth"] > 0, image
        assert image["renderedWidth"] <= width
        assert image["alt"]

    shot = chromium.screenshot(session, shots_dir / f"digest-{width}.png", width)
    picture = Image.open(io.BytesIO(shot.read_bytes()))
    assert picture.width == width and picture.height > 1000


def test_digest_without_images_still_fits_a_phone(chromium, preview, tmp_path):
    """Mail clients that block images show the alt text in the image's place."""
    blocked = tmp_path / "blocked.html"
    html = preview.read_text()
    blocked.write_text(html.replace('src="data:image/png;base64,', 'src="blocked:'))
    session = chromium.open(blocked.as_uri(), 375)
    m = chromium.measure(session)

    assert [i["naturalWidth"] for i in m["images"]] == [0, 0]
    assert m["scrollWidth"] <= m["innerWidth"] == 375, m


def test_the_overflow_check_catches_a_page_that_is_too_wide(chromium, tmp_path):
    """A control: the same measurement on a page with a 700 px wide block must see the overflow."""
    wide = tmp_path / "wide.html"
    wide.write_text(
        '<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">'
        '<body><div style="width:700px">too wide</div></body>'
    )
    m = chromium.measure(chromium.open(wide.as_uri(), 375))

    assert m["scrollWidth"] > 375 or m["widest"] > 375
