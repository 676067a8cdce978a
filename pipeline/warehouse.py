"""The DuckDB warehouse: schema, the single-writer lock and read paths.

DuckDB allows one writing process per file, and while it writes no other process can
open the file at all. So every writer takes `warehouse.lock` (an flock) first, keeps its
connection short, and on close publishes a read-only replica (`warehouse.read.duckdb`)
that ad-hoc readers fall back to while a writer is busy.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipeline.config import Settings

# Tables written by ingestion. Every table holding personal data has `athlete_id`
# so that `delete_athlete` can remove an athlete everywhere.
SCHEMA: dict[str, str] = {
    "landing": """
        create table if not exists landing (
            landing_id   bigint primary key,      -- increasing id, order of arrival
            athlete_id   bigint not null,
            endpoint     varchar not null,         -- athlete | activities_page | activity_detail | streams | gear
            object_id    varchar,                  -- activity id, gear id or athlete id as text; 'list' for pages
            fetched_at   timestamptz not null,
            batch_id     varchar not null,         -- one sync of one athlete
            payload      json,                     -- the API body as it came (null if it was not JSON)
            raw_text     varchar,                  -- the body text when it was not valid JSON
            parse_error  varchar,                  -- why it could not be parsed, if so
            payload_hash varchar not null          -- md5 of the body, to skip storing identical re-fetches
        )""",
    "athletes": """
        create table if not exists athletes (
            athlete_id     bigint primary key,
            firstname      varchar,
            lastname       varchar,
            city           varchar,
            country        varchar,
            sex            varchar,
            email          varchar,
            timezone       varchar not null default 'UTC',  -- IANA zone for weeks and digests
            digest_enabled boolean not null default true,
            needs_reauth   boolean not null default false,  -- refresh token was revoked
            registered_at  timestamptz not null default now(),
            profile_updated_at timestamptz
        )""",
    "activities": """
        create table if not exists activities (
            activity_id          bigint primary key,
            athlete_id           bigint not null,
            name                 varchar,
            description          varchar,
            sport_type           varchar,
            type                 varchar,
            start_date           timestamptz,   -- UTC
            start_date_local     timestamp,     -- wall clock in the athlete's zone
            timezone             varchar,
            distance             double,        -- metres
            moving_time          integer,       -- seconds
            elapsed_time         integer,       -- seconds
            total_elevation_gain double,        -- metres
            average_speed        double,        -- m/s
            max_speed            double,        -- m/s
            average_cadence      double,        -- as Strava reports it: strides (one foot) per minute for runs
            average_heartrate    double,
            max_heartrate        double,
            gear_id              varchar,
            trainer              boolean,
            manual               boolean,
            workout_type         integer,
            has_detail           boolean not null default false,
            landing_id           bigint,        -- the landing row this version came from
            batch_id             varchar,
            loaded_at            timestamptz not null default now()
        )""",
    "splits": """
        create table if not exists splits (
            activity_id          bigint not null,
            athlete_id           bigint not null,
            split                integer not null,   -- 1-based kilometre index (splits_metric)
            distance             double,             -- metres
            elapsed_time         integer,
            moving_time          integer,
            average_speed        double,             -- m/s
            average_heartrate    double,
            elevation_difference double,
            pace_zone            integer,
            primary key (activity_id, split)
        )""",
    "gear": """
        create table if not exists gear (
            gear_id     varchar primary key,
            athlete_id  bigint not null,
            name        varchar,
            brand_name  varchar,
            model_name  varchar,
            gear_type   varchar,        -- shoe | bike
            distance    double,         -- metres, Strava's running total (includes walks)
            retired     boolean,
            is_primary  boolean,
            missing     boolean not null default false,  -- Strava answered 404 for this gear id
            landing_id  bigint,
            loaded_at   timestamptz not null default now()
        )""",
    "stream_features": """
        create table if not exists stream_features (
            activity_id        bigint primary key,
            athlete_id         bigint not null,
            sample_count       integer,     -- points in the time stream
            duration_s         double,      -- last time sample
            first_third_spm    double,      -- steps per minute (2 x cadence) in the first third of time
            last_third_spm     double,
            first_third_pace_s_per_km double,
            last_third_pace_s_per_km  double,
            first_third_hr     double,
            last_third_hr      double,
            cadence_samples    integer,
            heartrate_samples  integer,
            landing_id         bigint
        )""",
    "sync_state": """
        create table if not exists sync_state (
            athlete_id      bigint primary key,
            cursor_epoch    bigint,        -- newest activity start seen (epoch s)
            resume_after    bigint,        -- list paging in progress: the 'after' value ...
            resume_page     integer,       -- ... and the next page to read
            last_sync_at    timestamptz,
            last_status     varchar,       -- ok | deferred | error | needs_reauth
            last_message    varchar,
            requests_used   integer,
            resume_before   bigint,        -- a newest-first listing in progress: its 'before' value
            listed_epoch    bigint,        -- when a listing last completed (epoch s)
            backlog_served_epoch bigint    -- when the athlete's backlog last had a turn (fair ordering)
        )""",
    "fetch_queue": """
        create table if not exists fetch_queue (
            athlete_id  bigint not null,
            activity_id bigint not null,
            kind        varchar not null,   -- detail | streams | profile | gear
            attempts    integer not null default 0,  -- failed fetches (malformed bodies); dropped after 3
            enqueued_at timestamptz not null default now(),
            start_epoch bigint,             -- the activity's start (epoch s): newest first
            object_id   varchar,            -- kind gear: the gear id
            primary key (activity_id, kind)
        )
        -- activity_id is the activity's id; for kind 'profile' the athlete's id, for kind 'gear'
        -- a negative key derived from the gear id (pipeline.sync.gear_queue_key)""",
    "deleted_activities": """
        create table if not exists deleted_activities (
            activity_id bigint primary key,
            athlete_id  bigint not null,
            deleted_at  timestamptz not null default now()
        )""",
    "ingest_log": """
        create table if not exists ingest_log (
            batch_id    varchar primary key,
            athlete_id  bigint not null,
            ingested_at timestamptz not null default now()
        )""",
    "quarantine": """
        create table if not exists quarantine (
            table_name   varchar not null,     -- the validated table (suite name)
            record_key   varchar not null,     -- primary key of the row as text
            athlete_id   bigint,
            activity_id  bigint,
            batch_id     varchar not null,
            failed_expectations varchar[] not null,
            row_json     json,
            quarantined_at timestamptz not null default now(),
            released_at  timestamptz,          -- set when a re-check passed it or a newer version replaced it
            superseded_by varchar,             -- the batch whose newer version replaced this row
            primary key (table_name, record_key, batch_id)
        )""",
    "validation_runs": """
        create table if not exists validation_runs (
            run_id        varchar primary key,
            suite         varchar not null,
            batch_id      varchar not null,
            started_at    timestamptz not null,
            rows_checked  integer not null,
            rows_passed   integer not null,
            rows_quarantined integer not null,
            success       boolean not null,
            duration_s    double not null,
            athlete_ids   bigint[],
            message       varchar               -- why a batch failed, if it did
        )""",
    "digest_log": """
        create table if not exists digest_log (
            athlete_id  bigint not null,
            week_start  date not null,
            status      varchar not null,     -- sent | failed
            attempts    integer not null default 1,
            sent_at     timestamptz,
            message_id  varchar,
            transport   varchar,              -- smtp | outbox
            error       varchar,
            primary key (athlete_id, week_start)
        )""",
}

SEQUENCES = ["create sequence if not exists landing_seq start 1"]

# Columns added after a table was first released: (table, column, type, not-null default or None).
# Checked on every writer connection with one catalog query; a later issue replaces this with
# versioned migrations.
ADDED_COLUMNS: tuple[tuple[str, str, str, str | None], ...] = (
    ("gear", "missing", "boolean", "false"),
    ("sync_state", "resume_before", "bigint", None),
    ("sync_state", "listed_epoch", "bigint", None),
    ("sync_state", "backlog_served_epoch", "bigint", None),
    ("fetch_queue", "start_epoch", "bigint", None),
    ("fetch_queue", "object_id", "varchar", None),
)


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse write lock."""


def init_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every ingestion table that is missing (idempotent, and cheap when all exist)."""
    existing = {
        r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()
    }
    if not set(SCHEMA) <= existing:
        for ddl in SEQUENCES:
            con.execute(ddl)
        for name, ddl in SCHEMA.items():
            if name not in existing:
                con.execute(ddl)
    _add_columns(con)


def _add_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Add the columns of `ADDED_COLUMNS` an older warehouse lacks (idempotent, one query when none)."""
    present = set(
        con.execute(
            """select table_name, column_name from duckdb_columns()
               where database_name = current_database() and schema_name = 'main'
                 and list_contains(?, table_name)""",
            [sorted({t for t, *_ in ADDED_COLUMNS})],
        ).fetchall()
    )
    for table, column, sql_type, not_null_default in ADDED_COLUMNS:
        if (table, column) in present:
            continue
        default = f" default {not_null_default}" if not_null_default is not None else ""
        con.execute(f'alter table "{table}" add column if not exists "{column}" {sql_type}{default}')
        if not_null_default is not None:
            con.execute(f'alter table "{table}" alter column "{column}" set not null')


def tables_with_athlete_id(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every base table that has an `athlete_id` column."""
    rows = con.execute(
        """select table_name from duckdb_columns()
           where column_name = 'athlete_id' and database_name = current_database()
             and table_name in (select table_name from duckdb_tables() where database_name = current_database())
           order by table_name"""
    ).fetchall()
    return [r[0] for r in rows]


def delete_athlete_rows(con: duckdb.DuckDBPyConnection, athlete_id: int) -> dict[str, int]:
    """Delete every row of an athlete from every table; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    con.execute("begin")
    try:
        for table in tables_with_athlete_id(con):
            n = con.execute(f'delete from "{table}" where athlete_id = ?', [athlete_id]).fetchall()[0]
            deleted[table] = int(n[0]) if n else 0
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return deleted


@contextlib.contextmanager
def write_lock(settings: Settings, wait_s: float = 600.0) -> Iterator[None]:
    """Serialise writers across processes; raise WarehouseBusy after `wait_s`."""
    with file_lock(
        settings.lock_path,
        wait_s,
        f"another backstride process is writing to {settings.warehouse_path}; try again when it finishes",
    ):
        yield


@contextlib.contextmanager
def file_lock(path: Path, wait_s: float, busy_message: str) -> Iterator[None]:
    """An exclusive flock on `path`, waiting up to `wait_s` (released if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + wait_s
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(busy_message) from None
                time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def writer(settings: Settings, wait_s: float = 600.0, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived write connection under the lock; publishes the read replica on success."""
    with write_lock(settings, wait_s=wait_s):
        settings.home.mkdir(parents=True, exist_ok=True)
        con = connect_writer(settings)
        ok = False
        try:
            init_schema(con)
            yield con
            ok = True
        finally:
            if ok:
                con.execute("checkpoint")
            con.close()
        if ok and publish:
            publish_replica(settings)


def publish_replica(settings: Settings) -> None:
    """Copy the closed warehouse to the replica path atomically (caller holds the lock)."""
    if not settings.warehouse_path.exists():
        return
    tmp = settings.replica_path.with_suffix(".tmp")
    shutil.copyfile(settings.warehouse_path, tmp)
    os.chmod(tmp, 0o644)
    os.replace(tmp, settings.replica_path)


def connect_reader(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published replica (the warehouse itself if none yet).

    Readers never open the warehouse file while a replica exists: a DuckDB reader holds a
    shared lock that would block the pipeline's writer. External access (files, network,
    extensions) is disabled and the configuration locked, so ad-hoc SQL cannot write or escape.
    """
    config = {"enable_external_access": "false", "lock_configuration": "true"}
    last_error: Exception | None = None
    for attempt in range(10):
        path = settings.replica_path if settings.replica_path.exists() else settings.warehouse_path
        if not path.exists():
            break
        try:
            return duckdb.connect(str(path), read_only=True, config=config)
        except duckdb.IOException as err:  # the warehouse itself, locked by a writer
            last_error = err
            time.sleep(0.1 * (attempt + 1))
    if last_error is None:
        raise FileNotFoundError(
            f"no warehouse at {settings.warehouse_path}: run `backstride sync` (or `backstride demo`) first"
        )
    raise WarehouseBusy(f"the warehouse is busy and no replica is available yet: {last_error}")


def connect_writer(settings: Settings, wait_s: float = 60.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing, waiting for outside readers that hold it (they are short)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return duckdb.connect(str(settings.warehouse_path))
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                raise WarehouseBusy(f"cannot open {settings.warehouse_path} for writing: {err}") from None
            time.sleep(0.1)


def compact(settings: Settings) -> None:
    """Rewrite the warehouse so deleted rows leave no bytes behind, then republish the replica.

    DuckDB marks deleted rows and keeps them in its storage blocks until those are rewritten,
    so after an athlete is removed their email and names could still be read from the file.
    `COPY FROM DATABASE` writes only live rows (schema, views, sequences too) into a new file,
    which replaces the old one under the write lock.
    """
    source = settings.warehouse_path
    if not source.exists():
        return
    target = source.with_name(source.name + ".compact")
    with write_lock(settings):
        target.unlink(missing_ok=True)
        con = connect_writer(settings)
        try:
            con.execute("checkpoint")
            name = con.execute("select current_database()").fetchall()[0][0]
            con.execute(f"attach '{target}' as compacted")
            con.execute(f'copy from database "{name}" to compacted')
            con.execute("detach compacted")
        finally:
            con.close()
        os.chmod(target, source.stat().st_mode & 0o777)
        os.replace(target, source)
        fd = os.open(source.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        publish_replica(settings)
