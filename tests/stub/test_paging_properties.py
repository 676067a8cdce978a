"""Paging properties of the activity list, for any page size and time window (hypothesis)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from stub_today import TODAY

from pipeline.strava_stub import synthetic_world
from pipeline.strava_stub.paging import list_page


@functools.cache
def _activities() -> list[dict]:
    return synthetic_world(1, 120, today=TODAY).athletes[5001].activities


def _epoch(activity: dict) -> int:
    return int(datetime.strptime(activity["start_date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _all_pages(per_page: int, after: int | None, before: int | None) -> list[dict]:
    out, page = [], 1
    while True:
        got = list_page(_activities(), page, per_page, after, before)
        out += got
        if len(got) < min(per_page, 200):
            return out
        page += 1


def _bounds() -> st.SearchStrategy[int | None]:
    starts = sorted(_epoch(a) for a in _activities())
    return st.one_of(st.none(), st.sampled_from(starts), st.integers(starts[0] - 10**6, starts[-1] + 10**6))


@settings(max_examples=150, deadline=None)
@given(per_page=st.integers(1, 250), after=_bounds(), before=_bounds())
def test_pages_hold_exactly_the_activities_in_the_window_once_in_stravas_order(
    per_page: int, after: int | None, before: int | None
) -> None:
    listed = _all_pages(per_page, after, before)
    expected = {
        a["id"]
        for a in _activities()
        if (after is None or _epoch(a) > after) and (before is None or _epoch(a) < before)
    }
    assert [a["id"] for a in listed if a["id"] in expected] == [a["id"] for a in listed]
    assert sorted(a["id"] for a in listed) == sorted(expected)
    starts = [_epoch(a) for a in listed]
    oldest_first = after is not None and before is None
    assert starts == sorted(starts, reverse=not oldest_first)


@settings(max_examples=50, deadline=None)
@given(per_page=st.integers(201, 10_000))
def test_a_page_never_holds_more_than_200(per_page: int) -> None:
    assert len(list_page(_activities() * 2, 1, per_page, None, None)) == 200
