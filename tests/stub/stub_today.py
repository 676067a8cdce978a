"""The fixed day the stub tests build the demo world around.

Its own module, not conftest.py: with several test folders in one run, `from conftest import`
can find another folder's conftest (tests/real_strava's) first.
"""

from __future__ import annotations

from datetime import date

# A Thursday: the last complete week is Mon 16 - Sun 22 November 2026.
TODAY = date(2026, 11, 26)
