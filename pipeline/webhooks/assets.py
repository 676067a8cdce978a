"""The Airflow asset the receiver updates and `strava_events` is scheduled on.

Standard library only (nothing at all, in fact): the DAG files import these names at parse
time, which must stay fast.
"""

WEBHOOK_ASSET_NAME = "strava_webhook_events"
WEBHOOK_ASSET_URI = "backstride://strava/webhook_events"
