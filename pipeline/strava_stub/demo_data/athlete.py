"""`DemoAthlete` and how one is assembled: gear totals, the profile, tokens, expectations."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pipeline.strava_stub.demo_data.builder import Builder
from pipeline.strava_stub.demo_data.constants import RULE_IDS
from pipeline.strava_stub.demo_data.dates import iso, last_complete_week, strava_zone


@dataclass
class DemoAthlete:
    """One demo athlete: Strava JSON plus what the persona is built to show."""

    athlete_id: int
    persona: str
    email: str
    timezone: str
    refresh_token: str
    auth_code: str
    profile: dict[str, Any]
    gear: dict[str, dict[str, Any]]
    activities: list[dict[str, Any]]
    expected: dict[str, set[str]] = field(default_factory=dict)
    bad_records: dict[str, int] = field(default_factory=dict)
    today: date | None = None  # the athlete's local date the data was built around

    def week(self) -> tuple[date, date]:
        """The athlete's last complete local ISO week (Monday, Sunday): where the pattern is."""
        if self.today is None:
            raise ValueError("this athlete was not built around a date")
        return last_complete_week(self.today)

    @property
    def summary(self) -> dict[str, Any]:
        """SummaryAthlete JSON, as sent with an authorization_code token answer."""
        keep = (
            "id",
            "username",
            "firstname",
            "lastname",
            "bio",
            "city",
            "state",
            "country",
            "sex",
            "premium",
            "summit",
            "created_at",
            "updated_at",
            "badge_type_id",
            "weight",
            "profile_medium",
            "profile",
            "friend",
            "follower",
        )
        out = {k: self.profile.get(k) for k in keep}
        out["resource_state"] = 2
        return out


@dataclass
class Shoe:
    gear_id: str
    brand: str
    model: str
    nickname: str = ""
    primary: bool = False
    retired: bool = False
    extra_m: float = 0.0  # distance logged before the history starts (Strava keeps the total)


def gear_json(shoes: list[Shoe], activities: list[dict[str, Any]], exclude: set[int]) -> dict[str, dict[str, Any]]:
    totals: dict[str, float] = {s.gear_id: s.extra_m for s in shoes}
    for act in activities:
        if act.get("gear_id") in totals and act["id"] not in exclude:
            totals[act["gear_id"]] += float(act["distance"])
    gear = {}
    for shoe in shoes:
        metres = round(totals[shoe.gear_id], 1)
        gear[shoe.gear_id] = {
            "id": shoe.gear_id,
            "primary": shoe.primary,
            "name": shoe.nickname or f"{shoe.brand} {shoe.model}",
            "nickname": shoe.nickname or None,
            "resource_state": 3,
            "retired": shoe.retired,
            "distance": metres,
            "converted_distance": round(metres / 1000, 1),
            "brand_name": shoe.brand,
            "model_name": shoe.model,
            "description": None,
            "notification_distance": 0,
        }
    return gear


def shoe_summaries(gear: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    keep = ("id", "primary", "name", "nickname", "retired", "distance", "converted_distance")
    return [{**{k: g[k] for k in keep}, "resource_state": 2} for g in gear.values()]


def _profile(
    athlete_id: int,
    first: str,
    last: str,
    city: str,
    state: str,
    country: str,
    sex: str,
    weight: float,
    tz: str,
    today: date,
    gear: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    created = datetime.combine(today - timedelta(days=365 * 5 + athlete_id % 97), time(9, 0), tzinfo=UTC)
    updated = datetime.combine(today - timedelta(days=3), time(9, 0), tzinfo=UTC)
    return {
        "id": athlete_id,
        "username": f"{first}{last}".lower().replace(" ", "")[:20],
        "resource_state": 3,
        "firstname": first,
        "lastname": last,
        "bio": "",
        "city": city,
        "state": state,
        "country": country,
        "sex": sex,
        "premium": False,
        "summit": False,
        "created_at": iso(created),
        "updated_at": iso(updated),
        "badge_type_id": 0,
        "weight": weight,
        "profile_medium": "avatar/athlete/medium.png",
        "profile": "avatar/athlete/large.png",
        "friend": None,
        "follower": None,
        "follower_count": 12 + athlete_id % 30,
        "friend_count": 15 + athlete_id % 25,
        "mutual_friend_count": 0,
        "athlete_type": 1,
        "date_preference": "%m/%d/%Y",
        "measurement_preference": "meters",
        "clubs": [],
        "ftp": None,
        "bikes": [],
        "shoes": shoe_summaries(gear),
        # Not in Strava's documented DetailedAthlete; kept so a registration can default the zone.
        "timezone": strava_zone(tz, datetime.combine(today, time(12, 0), tzinfo=UTC)),
    }


def _token(persona: str, seed: int, kind: str) -> str:
    rng = random.Random(f"{persona}-{seed}-{kind}")
    return f"demo-{kind}-{persona}-" + "".join(rng.choice("0123456789abcdef") for _ in range(24))


def make_athlete(
    *,
    athlete_id: int,
    persona: str,
    tz: str,
    seed: int,
    today: date,
    builder: Builder,
    shoes: list[Shoe],
    person: tuple[str, str, str, str, str, str, float],
    rules: set[str],
    shadowed: set[str] | None = None,
    bad_tags: tuple[str, ...],
    duplicate_tag: str | None,
    profiles: dict[int, list[float]],
) -> DemoAthlete:
    shadowed = set(shadowed or ())
    activities, tagged = builder.finish(profiles)
    bad = {tag: tagged[tag][0] for tag in bad_tags}
    if duplicate_tag:
        dup_id = tagged[duplicate_tag][0]
        index = next(i for i, a in enumerate(activities) if a["id"] == dup_id)
        activities.insert(index + 1, activities[index])  # the same object: Strava lists it twice
        bad["duplicate"] = dup_id
    gear = gear_json(shoes, activities, exclude=set(bad.values()) - {bad.get("duplicate")})
    summaries = {g["id"]: g for g in shoe_summaries(gear)}
    for activity in activities:
        if activity.get("gear_id") in summaries:
            activity["gear"] = dict(summaries[activity["gear_id"]])
    first, last, city, state, country, sex, weight = person
    factors = {rule.split(".")[0] for rule in rules}
    return DemoAthlete(
        athlete_id=athlete_id,
        persona=persona,
        email=f"{persona}@demo.backstride.local",
        timezone=tz,
        refresh_token=_token(persona, seed, "refresh"),
        auth_code=_token(persona, seed, "code"),
        profile=_profile(athlete_id, first, last, city, state, country, sex, weight, tz, today, gear),
        gear=gear,
        activities=activities,
        expected={
            "rules": set(rules),
            "factors": factors,
            "absent": set(RULE_IDS - rules - shadowed),
            "shadowed": shadowed,
        },
        bad_records=bad,
    )


# --- the personas ----------------------------------------------------------------------


def shoes_of(rows: Iterable[tuple[str, str, str, str, bool, bool]]) -> list[Shoe]:
    """Shoes from (gear id, brand, model, nickname, primary, retired) rows."""
    return [
        Shoe(g, brand, model, nick, primary=primary, retired=retired)
        for g, brand, model, nick, primary, retired in rows
    ]
