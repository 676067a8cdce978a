"""Athletes joining and leaving: registration from a refresh token, and removal of everything held on them."""

from __future__ import annotations

import uuid

from pipeline import tokens as token_store
from pipeline.config import Settings
from pipeline.loading import LandingItem, ingest_pending, land
from pipeline.maintenance import purge
from pipeline.strava_client import Api, Budget, StravaError, ensure_fresh, make_client
from pipeline.upsert import upsert_rows
from pipeline.warehouse import delete_athlete_rows, writer


def register_athlete(
    settings: Settings,
    refresh_token: str,
    email: str,
    timezone: str | None = None,
    tokens: token_store.Tokens | None = None,
) -> tuple[int, str]:
    """Refresh the token, read the profile (with its shoes), store tokens and register the athlete.

    Returns (athlete_id, display name).
    """
    tokens = tokens or token_store.Tokens(None, refresh_token, 0)
    budget = Budget(settings.reserve_short, settings.reserve_daily)
    client = make_client(settings, tokens, budget)
    tokens = ensure_fresh(client, settings, None, tokens, force=tokens.access_token is None)
    api = Api(client, settings, None, tokens, budget)
    profile = api.get("/athlete")
    if not isinstance(profile, dict) or not isinstance(profile.get("id"), int):
        raise StravaError("the athlete profile from Strava has no id")
    athlete_id = int(profile["id"])
    token_store.save_tokens(settings, athlete_id, api.tokens)
    api.athlete_id = athlete_id  # from here on every refresh is saved at once
    # The profile lists the shoes (they become gear rows); their bodies (brand, model) and any
    # shoe seen only on activities are queued for the first sync, which has the rate-limit budget.
    items = [LandingItem.from_text("athlete", athlete_id, api.last_text)]
    tz = timezone or _zone_from_strava(profile.get("timezone")) or "UTC"
    batch_id = f"{athlete_id}-register-{uuid.uuid4().hex[:6]}"
    with writer(settings) as con:
        upsert_rows(
            con, "athletes", ("athlete_id", "email", "timezone", "needs_reauth"), [(athlete_id, email, tz, False)]
        )
        land(con, athlete_id, batch_id, items)
        ingest_pending(con)
    name = " ".join(str(profile.get(k) or "") for k in ("firstname", "lastname")).strip()
    return athlete_id, name or str(athlete_id)


def _zone_from_strava(value: object) -> str | None:
    """Strava writes zones like "(GMT+01:00) Europe/Berlin"."""
    if isinstance(value, str) and value.strip():
        return value.split(")")[-1].strip() or None
    return None


def remove_athlete(settings: Settings, athlete_id: int) -> dict[str, int]:
    """Delete every row of an athlete from every table, their tokens and outbox files."""
    with writer(settings) as con:
        deleted = delete_athlete_rows(con, athlete_id)
    purge(settings)  # deleted rows would otherwise stay readable in Parquet files and old snapshots
    deleted["tokens"] = int(token_store.delete_tokens(settings, athlete_id))
    deleted["outbox_files"] = _remove_outbox_files(settings, athlete_id)
    return deleted


def _remove_outbox_files(settings: Settings, athlete_id: int) -> int:
    """The athlete's digests waiting in the outbox (`<week>/<id>.*` and `<week>/<id>-*`)."""
    outbox = settings.outbox_dir
    files = 0
    if outbox.exists():
        for pattern in (f"*/{int(athlete_id)}.*", f"*/{int(athlete_id)}-*"):
            for path in outbox.glob(pattern):
                path.unlink()
                files += 1
    return files
