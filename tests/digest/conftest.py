"""Fixtures for the digest tests: a real DuckDB warehouse with hand-made mart rows, and a real
SMTP server (aiosmtpd) on 127.0.0.1.

The marts (`risk_flags`, `weekly_load`, `shoe_status`, `rule_readiness`) are created here with
exactly the columns of their contract, so these tests do not depend on the SQL models. What
makes a week incomplete (`sync_state`, `fetch_queue`, `activities`, `gear`, `quarantine`) goes
into the warehouse's own ingestion tables.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from loopback_support import Mailbox, SmtpServer, running_smtp

from pipeline.config import Settings
from pipeline.warehouse import writer

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

WEEK = dt.date(2026, 11, 16)  # a Monday
WEEK_END = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # Sunday night in London (GMT in November)

MART_DDL = {
    "risk_flags": """create table risk_flags (athlete_id bigint, week_start date, factor varchar, rule_id varchar,
        severity varchar, evidence varchar, message varchar, metrics json)""",
    "weekly_load": """create table weekly_load (athlete_id bigint, week_start date, runs integer,
        distance_km double, moving_time_s double, longest_run_km double, elevation_gain_m double,
        prev4_avg_km double, change_vs_prev4 double, acwr double, monotony double, strain double)""",
    "shoe_status": """create table shoe_status (athlete_id bigint, gear_id varchar, name varchar,
        brand_name varchar, model_name varchar, distance_km double, first_run_date date, last_run_date date,
        age_days integer, runs_12w integer, retired boolean, missing boolean, watch_km double, warning_km double)""",
}
READINESS_DDL = """create table rule_readiness (athlete_id bigint, week_start date, rule_id varchar,
    factor varchar, needed_days integer, history_days integer, ready boolean, ready_from date)"""


@dataclass
class Warehouse:
    """Builder for a small warehouse: add rows, then `save()` writes them in one writer section."""

    settings: Settings
    athletes: list[dict[str, Any]] = field(default_factory=list)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    shoes: list[dict[str, Any]] = field(default_factory=list)
    quarantine: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # rule_id -> source, as in the rule_thresholds seed
    syncs: list[dict[str, Any]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    queue: list[tuple[int, int, str]] = field(default_factory=list)
    missing_gear: list[tuple[int, str]] = field(default_factory=list)
    readiness: list[dict[str, Any]] | None = None  # None: the mart does not exist

    def athlete(self, athlete_id: int, firstname: str = "Sam", email: str | None = None, **kw: Any) -> int:
        self.athletes.append(
            {
                "athlete_id": athlete_id,
                "firstname": firstname,
                "email": email if email is not None else f"runner{athlete_id}@example.com",
                "timezone": kw.get("timezone", "Europe/London"),
                "digest_enabled": kw.get("digest_enabled", True),
                "needs_reauth": kw.get("needs_reauth", False),
            }
        )
        return athlete_id

    def sync(
        self,
        athlete_id: int,
        status: str = "ok",
        at: dt.datetime = WEEK_END + dt.timedelta(hours=6),
        message: str | None = None,
        resume_after: dt.datetime | None = None,
        resume_before: dt.datetime | None = None,
        listed: dt.datetime | None = None,
    ) -> None:
        """The athlete's last sync as `sync_state` records it.

        A listing in progress pages oldest first after `resume_after`, or newest first before
        `resume_before`; `listed` is when a listing last completed (default: this sync's time
        when no paging is in progress and it did not fail).
        """
        paging = resume_after is not None or resume_before is not None
        if listed is None and not paging and status not in ("error", "needs_reauth"):
            listed = at
        self.syncs = [s for s in self.syncs if s["athlete_id"] != athlete_id]
        self.syncs.append(
            {
                "athlete_id": athlete_id,
                "resume_after": int(resume_after.timestamp()) if resume_after else (0 if paging else None),
                "resume_page": 3 if paging else None,
                "resume_before": int(resume_before.timestamp()) if resume_before else None,
                "listed_epoch": int(listed.timestamp()) if listed else None,
                "last_sync_at": at,
                "last_status": status,
                "last_message": message,
            }
        )

    def run(self, athlete_id: int, activity_id: int, start_date_local: str, gear_id: str | None = None) -> int:
        """A run in `activities` (only what the gap checks read: its day and shoe)."""
        self.runs.append(
            {"activity_id": activity_id, "athlete_id": athlete_id, "start": start_date_local, "gear_id": gear_id}
        )
        return activity_id

    def pending(self, athlete_id: int, activity_id: int, kind: str) -> None:
        """A detail or streams fetch still in `fetch_queue`."""
        self.queue.append((athlete_id, activity_id, kind))

    def gear_missing(self, athlete_id: int, gear_id: str) -> None:
        """A shoe that answered 404 on Strava (`gear.missing`)."""
        self.missing_gear.append((athlete_id, gear_id))

    def waits_for_history(
        self, athlete_id: int, rule_id: str, needed_days: int, history_days: int, ready_from: dt.date | None = None
    ) -> None:
        """A `rule_readiness` row: the window rule is not judged this week for lack of history."""
        self.readiness = self.readiness or []
        self.readiness.append(
            {
                "athlete_id": athlete_id,
                "week_start": WEEK,
                "rule_id": rule_id,
                "factor": rule_id.split(".")[0],
                "needed_days": needed_days,
                "history_days": history_days,
                "ready": False,
                "ready_from": ready_from,
            }
        )

    def week(self, athlete_id: int, week_start: dt.date = WEEK, distance_km: float = 30.0, runs: int = 3, **kw: Any):
        row = {
            "athlete_id": athlete_id,
            "week_start": week_start,
            "runs": runs,
            "distance_km": distance_km,
            "moving_time_s": kw.get("moving_time_s", distance_km * 330),
            "longest_run_km": kw.get("longest_run_km", distance_km / max(runs, 1) * 1.5),
            "elevation_gain_m": kw.get("elevation_gain_m", 120.0),
            "prev4_avg_km": kw.get("prev4_avg_km"),
            "change_vs_prev4": kw.get("change_vs_prev4"),
            "acwr": kw.get("acwr"),
            "monotony": kw.get("monotony"),
            "strain": kw.get("strain"),
        }
        self.weeks.append(row)

    def flag(
        self,
        athlete_id: int,
        rule_id: str,
        severity: str,
        evidence: str,
        message: str,
        week_start: dt.date = WEEK,
        metrics: dict[str, Any] | None = None,
    ):
        self.flags.append(
            {
                "athlete_id": athlete_id,
                "week_start": week_start,
                "factor": rule_id.split(".")[0],
                "rule_id": rule_id,
                "severity": severity,
                "evidence": evidence,
                "message": message,
                "metrics": metrics or {},
            }
        )

    def shoe(
        self,
        athlete_id: int,
        gear_id: str,
        name: str,
        distance_km: float,
        retired: bool = False,
        missing: bool = False,
    ):
        self.shoes.append(
            {
                "athlete_id": athlete_id,
                "gear_id": gear_id,
                "name": name,
                "brand_name": None,
                "model_name": None,
                "distance_km": distance_km,
                "first_run_date": dt.date(2025, 3, 1),
                "last_run_date": WEEK,
                "age_days": 600,
                "runs_12w": 20,
                "retired": retired,
                "missing": missing,
                "watch_km": 600.0,
                "warning_km": 800.0,
            }
        )

    def quarantined(
        self,
        athlete_id: int,
        activity_id: int,
        start_date_local: str | None,
        table: str = "activities",
        endpoint: str | None = None,
    ):
        row_json: dict[str, Any] = {"activity_id": activity_id, "distance": -5}
        if endpoint:  # a landed body held back whole (table 'landing'), as loading records it
            row_json["endpoint"] = endpoint
        if start_date_local:
            row_json["start_date_local"] = start_date_local
        self.quarantine.append(
            {"athlete_id": athlete_id, "activity_id": activity_id, "row_json": row_json, "table": table}
        )

    def save(self) -> Settings:
        import json

        import pandas as pd

        with writer(self.settings) as con:
            for name, ddl in MART_DDL.items():
                con.execute(f"drop table if exists {name}")
                con.execute(ddl)
            if self.sources:
                con.execute(
                    """create or replace table rule_thresholds (rule_id varchar, factor varchar, param varchar,
                       value double, unit varchar, evidence varchar, source varchar, meaning varchar)"""
                )
                for rule_id, source in self.sources.items():
                    con.execute(
                        "insert into rule_thresholds values (?, ?, 'p', 1, 'x', 'limited', ?, 'm')",
                        [rule_id, rule_id.split(".")[0], source],
                    )
            for table in ("athletes", "quarantine", "sync_state", "fetch_queue", "activities", "gear"):
                con.execute(f"delete from {table}")
            for a in self.athletes:
                con.execute(
                    """insert into athletes (athlete_id, firstname, email, timezone, digest_enabled, needs_reauth)
                       values (?, ?, ?, ?, ?, ?)""",
                    [
                        a["athlete_id"],
                        a["firstname"],
                        a["email"],
                        a["timezone"],
                        a["digest_enabled"],
                        a["needs_reauth"],
                    ],
                )
            sync_columns = {
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where table_name = 'sync_state'"
                ).fetchall()
            }  # listed_epoch and resume_before arrived with newest-first onboarding
            for s in self.syncs:
                row = {k: v for k, v in s.items() if k in sync_columns}
                con.execute(
                    f"insert into sync_state ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
                    list(row.values()),
                )
            for r in self.runs:  # start_date in UTC: London is on GMT in November
                con.execute(
                    """insert into activities (activity_id, athlete_id, sport_type, type, start_date, start_date_local,
                       gear_id) values (?, ?, 'Run', 'Run', ?, ?, ?)""",
                    [r["activity_id"], r["athlete_id"], r["start"] + "+00:00", r["start"], r["gear_id"]],
                )
            for athlete_id, activity_id, kind in self.queue:
                con.execute(
                    "insert into fetch_queue (athlete_id, activity_id, kind) values (?, ?, ?)",
                    [athlete_id, activity_id, kind],
                )
            if self.missing_gear:
                con.execute("alter table gear add column if not exists missing boolean")
                for athlete_id, gear_id in self.missing_gear:
                    con.execute(
                        "insert into gear (gear_id, athlete_id, missing) values (?, ?, true)", [gear_id, athlete_id]
                    )
            con.execute("drop table if exists rule_readiness")
            if self.readiness is not None:
                con.execute(READINESS_DDL)
                for row in self.readiness:
                    con.execute("insert into rule_readiness values (?, ?, ?, ?, ?, ?, ?, ?)", list(row.values()))
            if self.weeks:
                weeks = pd.DataFrame(self.weeks)  # noqa: F841 - read by the SQL below
                con.execute("insert into weekly_load by name select * from weeks")
            for f in self.flags:
                con.execute(
                    "insert into risk_flags values (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        f["athlete_id"],
                        f["week_start"],
                        f["factor"],
                        f["rule_id"],
                        f["severity"],
                        f["evidence"],
                        f["message"],
                        json.dumps(f["metrics"]),
                    ],
                )
            for s in self.shoes:
                con.execute(
                    "insert into shoe_status by name select * from (select ? as athlete_id, ? as gear_id, ? as name,"
                    " ? as brand_name, ? as model_name, ? as distance_km, ? as first_run_date, ? as last_run_date,"
                    " ? as age_days, ? as runs_12w, ? as retired, ? as missing, ? as watch_km, ? as warning_km)",
                    list(s.values()),
                )
            for q in self.quarantine:
                con.execute(
                    """insert into quarantine (table_name, record_key, athlete_id, activity_id, batch_id,
                       failed_expectations, row_json) values (?, ?, ?, ?, 'b1', ['distance >= 0'], ?)""",
                    [q["table"], str(q["activity_id"]), q["athlete_id"], q["activity_id"], json.dumps(q["row_json"])],
                )
        return self.settings


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def warehouse(home: Path) -> Warehouse:
    return Warehouse(Settings(home=home))


# --- a real SMTP server -------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


def smtp_settings(home: Path, server: SmtpServer) -> Settings:
    return Settings(home=home, smtp_url=server.url)


__all__ = ["WEEK", "WEEK_END", "Mailbox", "SMTPServer", "SmtpServer", "Warehouse", "smtp_settings"]


# --- reading a received message -----------------------------------------------------------


def html_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]


def inline_images(message: EmailMessage) -> dict[str, EmailMessage]:
    """Image parts by Content-ID (without the angle brackets)."""
    return {
        str(part["Content-ID"]).strip().strip("<>"): part
        for part in message.walk()
        if part.get_content_maintype() == "image" and part["Content-ID"]
    }
