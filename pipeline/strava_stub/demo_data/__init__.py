"""Deterministic demo athletes shaped like Strava's JSON, dated relative to today.

Four personas, each built so that the last complete ISO week (Monday to Sunday, athlete local
time) and the weeks before it carry one training pattern from ../shared/evidence.md:

- steady (1001, Europe/London): the control. No rule fires in the last complete week, and
  nothing at watch level or above in any week of her history.
- spiker (1002, America/New_York): single-run spikes, runs the day after big runs, one
  worn-out 2-year-old pair of shoes, road only, no strength work for 6 weeks.
- fader (1003, Australia/Sydney): low cadence, form fading late in runs, no warm-ups,
  runs every day at the same load, many runs without gear, little strength work.
- niggle (1004, Europe/Berlin): pain notes, back after a 3-week break, a spike vs the
  weeks since the break (and a big weekly change), treadmill runs and no soft surfaces.

Deliberately bad records (for the quarantine demo), listed in `DemoAthlete.bad_records`:
- "gps_glitch" (spiker): a 212 km "Run" in 50 minutes, two weeks before the last complete week.
- "duplicate" (spiker): one activity id listed twice in `activities`, so the list endpoint
  returns it twice. The copies are adjacent in sort order, placed so that a full sync
  (after=0, oldest first, 200 a page) gets one copy at the end of page 1 and the other at the
  start of page 2. Both copies are the same dict.
- "impossible_cadence" (fader): average_cadence 140 strides/min (280 spm) in the week
  before the last complete week; its cadence stream agrees.

`DemoAthlete.expected` says what each persona is built to show in its last complete week:
"rules" (rule ids that fire, at any severity incl. info), "factors" (their factors),
"absent" (rule ids that must not fire) and "shadowed" (conditions the data also meets but the
rule catalogue does not raise, e.g. strength.low_frequency is not raised when
strength.no_strength_14d already is). tests/stub/stub_support.py reads the thresholds of
../shared/evidence.md independently and checks every persona against it.

Everything is a pure function of (`today`, `seed`): same inputs, identical world.
Streams are generated on demand from the activity's splits, so they agree with it.
"""

from pipeline.strava_stub.demo_data.athlete import DemoAthlete
from pipeline.strava_stub.demo_data.constants import (
    ALL_STREAM_KEYS,
    DEFAULT_STREAM_KEYS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DETAIL_ONLY_KEYS,
    DUPLICATE_PAGE_INDEX,
    FACTORS,
    PAIN_WORDS,
    PERSONA_ZONES,
    RULE_IDS,
    RUN_SPORTS,
    SOFT_SURFACE_WORDS,
    STRENGTH_SPORTS,
    STRENGTH_WORKOUT_WORDS,
    summary_of,
)
from pipeline.strava_stub.demo_data.dates import last_complete_week, strava_zone
from pipeline.strava_stub.demo_data.demo_world import build_world
from pipeline.strava_stub.demo_data.synthetic import synthetic_world
from pipeline.strava_stub.demo_data.world import World

__all__ = [
    "ALL_STREAM_KEYS",
    "DEFAULT_STREAM_KEYS",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DETAIL_ONLY_KEYS",
    "DUPLICATE_PAGE_INDEX",
    "FACTORS",
    "PAIN_WORDS",
    "PERSONA_ZONES",
    "RULE_IDS",
    "RUN_SPORTS",
    "SOFT_SURFACE_WORDS",
    "STRENGTH_SPORTS",
    "STRENGTH_WORKOUT_WORDS",
    "DemoAthlete",
    "World",
    "build_world",
    "last_complete_week",
    "strava_zone",
    "summary_of",
    "synthetic_world",
]
