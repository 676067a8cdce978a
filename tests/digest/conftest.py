"""Fixtures for the digest tests: a real DuckDB warehouse with hand-made mart rows, and a real
SMTP server (aiosmtpd) on 127.0.0.1.

The marts (`risk_flags`, `weekly_load`, `shoe_status`) are created here with exactly the
columns of their contract, so these tests do not depend on the SQL models.
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

MART_DDL = {
    "risk_flags": """create table risk_flags (athlete_id bigint, week_start date, factor varchar, rule_id varchar,
        severity varchar, evidence varchar, message varchar, metrics json)""",
    "weekly_load": """create table weekly_load (athlete_id bigint, week_start date, runs integer,
        distance_km double, moving_time_s double, longest_run_km double, elevation_gain_m double,
        prev4_avg_km double, change_vs_prev4 double, acwr double, monotony double, strain double)""",
    "shoe_status": """create table shoe_status (athlete_id bigint, gear_id varchar, name varchar,
        brand_name varchar, model_name varchar, distance_km double, first_run_date date, last_run_date date,
        age_days integer, runs_12w integer, retired boolean, watch_km double, warning_km double)""",
}


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

    def athlete(self, athlete_id: int, firstname: str = "Sam", email: str | None = None, **kw: Any) -> int:
        self.athletes.append(
            {
                "athlete_id": athlete_id,
                "firstname": firstname,
                "email": email if email is not None else f"runner{athlete_id}@example.com",
                "timezone": kw.get("timezone", "Europe/London"),
                "digest_enabled": kw.get("digest_enabled", True),
            }
        )
        return athlete_id

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

    def shoe(self, athlete_id: int, gear_id: str, name: str, distance_km: float, retired: bool = False):
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
                "watch_km": 600.0,
                "warning_km": 800.0,
            }
        )

    def quarantined(self, athlete_id: int, activity_id: int, start_date_local: str):
        self.quarantine.append(
            {
                "athlete_id": athlete_id,
                "activity_id": activity_id,
                "row_json": {"activity_id": activity_id, "start_date_local": start_date_local, "distance": -5},
            }
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
            con.execute("delete from athletes")
            con.execute("delete from quarantine")
            for a in self.athletes:
                con.execute(
                    "insert into athletes (athlete_id, firstname, email, timezone, digest_enabled) values (?, ?, ?, ?, ?)",
                    [a["athlete_id"], a["firstname"], a["email"], a["timezone"], a["digest_enabled"]],
                )
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
                    " ? as age_days, ? as runs_12w, ? as retired, ? as watch_km, ? as warning_km)",
                    list(s.values()),
                )
            for q in self.quarantine:
                con.execute(
                    """insert into quarantine (table_name, record_key, athlete_id, activity_id, batch_id,
                       failed_expectations, row_json) values ('activities', ?, ?, ?, 'b1', ['distance >= 0'], ?)""",
                    [str(q["activity_id"]), q["athlete_id"], q["activity_id"], json.dumps(q["row_json"])],
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


__all__ = ["WEEK", "Mailbox", "SMTPServer", "SmtpServer", "Warehouse", "smtp_settings"]


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
