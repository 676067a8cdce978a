-- 001_baseline: the schema of release 0.1, the first one with versioned migrations.
-- A warehouse made by that release (no schema_version table) is adopted at this version:
-- the runner creates what it lacks and adds any column of this file it is missing.
-- Tables written by ingestion hold `athlete_id` where they hold personal data, so that
-- removing an athlete deletes their rows everywhere.

create sequence if not exists landing_seq start 1;

create table if not exists landing (
    landing_id bigint primary key,  -- increasing id, order of arrival
    athlete_id bigint not null,
    endpoint varchar not null,  -- athlete | activities_page | activity_detail | streams | gear
    object_id varchar,  -- activity id, gear id or athlete id as text; 'list' for pages
    fetched_at timestamptz not null,
    batch_id varchar not null,  -- one sync of one athlete
    payload json,  -- the API body as it came (null if it was not JSON)
    raw_text varchar,  -- the body text when it was not valid JSON
    parse_error varchar,  -- why it could not be parsed, if so
    payload_hash varchar not null  -- md5 of the body, to skip storing identical re-fetches
);

create table if not exists athletes (
    athlete_id bigint primary key,
    firstname varchar,
    lastname varchar,
    city varchar,
    country varchar,
    sex varchar,
    email varchar,
    timezone varchar not null default 'UTC',  -- IANA zone for weeks and digests
    digest_enabled boolean not null default true,
    needs_reauth boolean not null default false,  -- refresh token was revoked
    registered_at timestamptz not null default now(),
    profile_updated_at timestamptz
);

create table if not exists activities (
    activity_id bigint primary key,
    athlete_id bigint not null,
    name varchar,
    description varchar,
    sport_type varchar,
    type varchar,
    start_date timestamptz,  -- UTC
    start_date_local timestamp,  -- wall clock in the athlete's zone
    timezone varchar,
    distance double,  -- metres
    moving_time integer,  -- seconds
    elapsed_time integer,  -- seconds
    total_elevation_gain double,  -- metres
    average_speed double,  -- m/s
    max_speed double,  -- m/s
    average_cadence double,  -- as Strava reports it: strides (one foot) per minute for runs
    average_heartrate double,
    max_heartrate double,
    gear_id varchar,
    trainer boolean,
    manual boolean,
    workout_type integer,
    has_detail boolean not null default false,
    landing_id bigint,  -- the landing row this version came from
    batch_id varchar,
    loaded_at timestamptz not null default now()
);

create table if not exists splits (
    activity_id bigint not null,
    athlete_id bigint not null,
    split integer not null,  -- 1-based kilometre index (splits_metric)
    distance double,  -- metres
    elapsed_time integer,
    moving_time integer,
    average_speed double,  -- m/s
    average_heartrate double,
    elevation_difference double,
    pace_zone integer,
    primary key (activity_id, split)
);

create table if not exists gear (
    gear_id varchar primary key,
    athlete_id bigint not null,
    name varchar,
    brand_name varchar,
    model_name varchar,
    gear_type varchar,  -- shoe | bike
    distance double,  -- metres, Strava's running total (includes walks)
    retired boolean,
    is_primary boolean,
    missing boolean not null default false,  -- Strava answered 404 for this gear id
    landing_id bigint,
    loaded_at timestamptz not null default now()
);

create table if not exists stream_features (
    activity_id bigint primary key,
    athlete_id bigint not null,
    sample_count integer,  -- points in the time stream
    duration_s double,  -- last time sample
    first_third_spm double,  -- steps per minute (2 x cadence) in the first third of time
    last_third_spm double,
    first_third_pace_s_per_km double,
    last_third_pace_s_per_km double,
    first_third_hr double,
    last_third_hr double,
    cadence_samples integer,
    heartrate_samples integer,
    landing_id bigint
);

create table if not exists sync_state (
    athlete_id bigint primary key,
    cursor_epoch bigint,  -- newest activity start seen (epoch s)
    resume_after bigint,  -- list paging in progress: the 'after' value ...
    resume_page integer,  -- ... and the next page to read
    last_sync_at timestamptz,
    last_status varchar,  -- ok | deferred | error | needs_reauth
    last_message varchar,
    requests_used integer,
    resume_before bigint,  -- a newest-first listing in progress: its 'before' value
    listed_epoch bigint,  -- when a listing last completed (epoch s)
    backlog_served_epoch bigint  -- when the athlete's backlog last had a turn (fair ordering)
);

-- activity_id is the activity's id; for kind 'profile' the athlete's id, for kind 'gear'
-- a negative key derived from the gear id (pipeline.sync.gear_queue_key)
create table if not exists fetch_queue (
    athlete_id bigint not null,
    activity_id bigint not null,
    kind varchar not null,  -- detail | streams | profile | gear
    attempts integer not null default 0,  -- failed fetches (malformed bodies); dropped after 3
    enqueued_at timestamptz not null default now(),
    start_epoch bigint,  -- the activity's start (epoch s): newest first
    object_id varchar,  -- kind gear: the gear id
    primary key (activity_id, kind)
);

create table if not exists deleted_activities (
    activity_id bigint primary key,
    athlete_id bigint not null,
    deleted_at timestamptz not null default now()
);

create table if not exists ingest_log (
    batch_id varchar primary key,
    athlete_id bigint not null,
    ingested_at timestamptz not null default now()
);

create table if not exists quarantine (
    table_name varchar not null,  -- the validated table (suite name)
    record_key varchar not null,  -- primary key of the row as text
    athlete_id bigint,
    activity_id bigint,
    batch_id varchar not null,
    failed_expectations varchar[] not null,
    row_json json,
    quarantined_at timestamptz not null default now(),
    released_at timestamptz,  -- set when a re-check passed it or a newer version replaced it
    superseded_by varchar,  -- the batch whose newer version replaced this row
    primary key (table_name, record_key, batch_id)
);

create table if not exists validation_runs (
    run_id varchar primary key,
    suite varchar not null,
    batch_id varchar not null,
    started_at timestamptz not null,
    rows_checked integer not null,
    rows_passed integer not null,
    rows_quarantined integer not null,
    success boolean not null,
    duration_s double not null,
    athlete_ids bigint[],
    message varchar  -- why a batch failed, if it did
);

create table if not exists digest_log (
    athlete_id bigint not null,
    week_start date not null,
    status varchar not null,  -- sent | failed
    attempts integer not null default 1,
    sent_at timestamptz,
    message_id varchar,
    transport varchar,  -- smtp | outbox
    error varchar,
    primary key (athlete_id, week_start)
);

create table if not exists webhook_events (
    dedupe_key varchar primary key,  -- sha256 of object_type, object_id, aspect_type, event_time, updates
    athlete_id bigint not null,  -- owner_id: athlete removal deletes these rows too
    object_type varchar not null,  -- activity | athlete
    object_id bigint not null,
    aspect_type varchar not null,  -- create | update | delete
    event_time bigint not null,  -- epoch s, as Strava sent it
    updates json,
    subscription_id bigint,
    outcome varchar not null,  -- fetched | queued | needs_reauth | deleted | superseded | ignored
    processed_at timestamptz not null default now()
);

create table if not exists rule_threshold_overrides (
    athlete_id bigint not null,
    rule_id varchar not null,
    param varchar not null,
    value double not null,
    primary key (athlete_id, rule_id, param)
);
