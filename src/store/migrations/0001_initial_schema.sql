-- logpipe schema, part 1: what ingest and the device query need (DESIGN.md §3).

CREATE TABLE tenants (
  id         integer PRIMARY KEY,
  name       text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (id, name) VALUES (1, 'default');

-- Partitioned tables cannot own identity columns before PostgreSQL 17, so ids come from a
-- sequence; CACHE spares the worker a sequence round trip per row.
CREATE SEQUENCE logs_id_seq AS bigint CACHE 1000;

CREATE TABLE logs (
  tenant_id     integer     NOT NULL DEFAULT 1,
  id            bigint      NOT NULL DEFAULT nextval('logs_id_seq'),
  ts            timestamptz NOT NULL,
  received_at   timestamptz NOT NULL,
  device_id     text,
  service       text,
  app           text,
  host          text,
  level         text        NOT NULL,
  message       text        NOT NULL,
  attrs         jsonb       NOT NULL DEFAULT '{}',
  source_format text        NOT NULL DEFAULT 'json'
) PARTITION BY RANGE (ts);
ALTER SEQUENCE logs_id_seq OWNED BY logs.id;

-- Records whose day has no partition (far past, far future) land here and are moved into the
-- day's partition if one is created later.
CREATE TABLE logs_default PARTITION OF logs DEFAULT;

-- GET /api/logs/{device_id}: newest first per device.
CREATE INDEX logs_device_ts ON logs (tenant_id, device_id, ts DESC) WHERE device_id IS NOT NULL;
-- Time-range scans; BRIN costs almost nothing at ingest because rows arrive in time order.
CREATE INDEX logs_ts_brin ON logs USING brin (ts);

-- One row per stored stream entry, written in the same transaction as its records: a
-- redelivered entry whose id is here was stored already (exactly-once storage).
CREATE TABLE ingest_batches (
  stream       text        NOT NULL,
  entry_id     text        NOT NULL,
  record_count integer     NOT NULL,
  stored_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (stream, entry_id)
);

CREATE TABLE devices (
  tenant_id  integer     NOT NULL,
  device_id  text        NOT NULL,
  first_seen timestamptz NOT NULL,
  last_seen  timestamptz NOT NULL,
  log_count  bigint      NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, device_id)
);
CREATE INDEX devices_last_seen ON devices (tenant_id, last_seen DESC);

-- Per-minute counts that statistics read instead of count(*) over logs.
CREATE TABLE log_counts (
  tenant_id integer     NOT NULL,
  minute    timestamptz NOT NULL,
  level     text        NOT NULL,
  service   text        NOT NULL DEFAULT '',
  count     bigint      NOT NULL,
  PRIMARY KEY (tenant_id, minute, level, service)
);

-- Creates the partition of `logs` for one UTC day if it is missing, moving any rows of that day
-- out of logs_default. Safe to call concurrently.
CREATE FUNCTION logpipe_ensure_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('logs_%s', to_char(day, 'YYYYMMDD'));
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('logpipe_ensure_partition'), day - date '1970-01-01');
  -- Re-check with a fresh catalog scan: to_regclass reads the relation cache, which an advisory
  -- lock doesn't refresh, so it can miss a partition another session just committed.
  IF EXISTS (SELECT 1 FROM pg_class WHERE relname = part
             AND relnamespace = current_schema()::regnamespace) THEN
    RETURN;
  END IF;
  EXECUTE format('CREATE TABLE %I (LIKE logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  EXECUTE format('WITH moved AS (DELETE FROM logs_default WHERE ts >= $1 AND ts < $2 RETURNING *)'
                 ' INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
  EXECUTE format('ALTER TABLE logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
END
$$;

CREATE FUNCTION logpipe_ensure_partitions(first_day date, last_day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  d date := first_day;
BEGIN
  WHILE d <= last_day LOOP
    PERFORM logpipe_ensure_partition(d);
    d := d + 1;
  END LOOP;
END
$$;
