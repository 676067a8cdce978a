"""A local Strava-compatible server and deterministic demo athletes.

Used by the demo, by the tests and by anyone developing without a Strava account:
`build_world()` makes the demo athletes, `StubServer(world).start()` serves them over real
HTTP on 127.0.0.1 with Strava's OAuth, paging, rate-limit headers and injectable faults.
"""

from pipeline.strava_stub.demo_data import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DemoAthlete,
    World,
    build_world,
    synthetic_world,
)
from pipeline.strava_stub.server import StubServer

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "DemoAthlete",
    "StubServer",
    "World",
    "build_world",
    "synthetic_world",
]
