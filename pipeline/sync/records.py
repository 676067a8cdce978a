"""The records one athlete's sync passes between its steps: the result, queued fetches, what was fetched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.loading import LandingItem
from pipeline.strava_client import Deferred, StravaError

Clock = Callable[[], float]
ProgressFn = Callable[[int, str], None]
Key = tuple[int, str]  # (activity_id, kind): one row of fetch_queue


@dataclass
class SyncResult:
    athlete_id: int
    status: str = "ok"  # ok | deferred | needs_reauth | error
    new_activities: int = 0
    details: int = 0
    streams: int = 0
    requests: int = 0
    landed: int = 0
    message: str = ""
    pending: int = 0  # queued fetches (details, streams, profile, gear) left for next time
    gear: int = 0  # gear bodies fetched (or recorded missing)
    more: bool = field(default=False, repr=False)  # work this run could still do (queue or paging)
    turned_over: bool = field(default=False, repr=False)  # stopped at its turn's request cap
    failed_keys: set[Key] = field(default_factory=set, repr=False)  # not retried this run

    def summary(self) -> str:
        text = (
            f"athlete {self.athlete_id}: {self.status}, {self.new_activities} new or changed activities, "
            f"{self.details} details, {self.streams} streams, {self.requests} requests"
        )
        if self.pending:
            text += f", {self.pending} fetches left for next run"
        if self.message:
            text += f" ({self.message})"
        return text

    def absorb(self, later: SyncResult) -> None:
        """Add a later turn of the same athlete in the same run."""
        for name in ("new_activities", "details", "streams", "requests", "landed", "gear"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.status, self.message, self.pending = later.status, later.message, later.pending
        self.more, self.turned_over = later.more, later.turned_over
        self.failed_keys |= later.failed_keys


@dataclass
class Item:
    """One queued fetch."""

    activity_id: int
    kind: str  # detail | streams | profile | gear
    attempts: int = 0
    start: int | None = None  # activity start (epoch s)
    object_id: str | None = None  # gear id

    @property
    def key(self) -> Key:
        return (self.activity_id, self.kind)


@dataclass
class Fetched:
    """What one athlete's fetching brought: payloads to land and the progress to record."""

    items: list[LandingItem] = field(default_factory=list)
    enqueue: dict[Key, tuple[int | None, str | None]] = field(default_factory=dict)  # -> start, object
    dequeue: set[Key] = field(default_factory=set)
    failed: set[Key] = field(default_factory=set)
    cursor_epoch: int | None = None
    paging_done: bool = False
    resume_after: int | None = None
    resume_page: int | None = None
    resume_before: int | None = None
    listed: bool = False  # a listing completed in this call
    served: bool = False  # the athlete's backlog had a turn in this call


class TurnOver(Deferred):
    """This athlete's turn is over (its request cap is reached); others go next."""


class Partial(Exception):
    """Fetching stopped early; carries what was fetched so far."""

    def __init__(self, fetched: Fetched, cause: StravaError | None = None) -> None:
        super().__init__(str(cause) if cause else "deferred")
        self.fetched = fetched
        self.cause = cause or Deferred("rate limit")
