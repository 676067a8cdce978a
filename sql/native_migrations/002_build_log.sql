-- 002_build_log: one row per `backstride build`, so an operator can see when models were last
-- built (`backstride status`). Written by pipeline.build_log.record_build at the end of a build.

create sequence if not exists build_log_seq start 1;

create table build_log (
    build_id bigint primary key default nextval('build_log_seq'),
    started_at timestamptz not null,
    finished_at timestamptz not null default now(),
    as_of date not null,  -- the build's reference "today"
    models integer not null,  -- models built
    batches_ingested integer not null default 0,  -- landing batches validated and merged first
    full_rebuild boolean not null default true  -- every model rebuilt (false: an incremental build)
);
