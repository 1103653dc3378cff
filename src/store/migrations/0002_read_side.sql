-- logpipe schema, part 2: the read side (DESIGN.md §3, §5) and rollups that stay cheap at ingest.

-- Rollups are sharded by consumer: each worker consumer upserts only the rows of its own shard, so
-- two consumers storing at once never wait on each other's row locks (that wait was 36% of
-- consumer time with four workers). Reads sum the shards.
--
-- devices: no index on last_seen any more. Every stored batch updates last_seen of each device in
-- it; an index on that column made 99.4% of those updates non-HOT (a new index entry per update:
-- a 162 MB heap for 1,000 live rows after one drain). With no indexed column changing, and room
-- left on each page (fillfactor), the updates are HOT and pruned in place. The device list sorts
-- the (few) device rows at read time instead.
DROP INDEX devices_last_seen;
ALTER TABLE devices ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE devices DROP CONSTRAINT devices_pkey;
ALTER TABLE devices ADD PRIMARY KEY (tenant_id, device_id, shard);
ALTER TABLE devices SET (fillfactor = 50);

-- log_counts: per minute, now also per app, in three grains so a statistic reads few rows at any
-- range: minutes for histograms of the last hours, hours for days, days for months.
ALTER TABLE log_counts ADD COLUMN app text NOT NULL DEFAULT '';
ALTER TABLE log_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0;
ALTER TABLE log_counts DROP CONSTRAINT log_counts_pkey;
ALTER TABLE log_counts ADD PRIMARY KEY (tenant_id, minute, level, service, app, shard);
ALTER TABLE log_counts SET (fillfactor = 70);

CREATE TABLE log_counts_hourly (
  tenant_id integer     NOT NULL,
  hour      timestamptz NOT NULL,
  level     text        NOT NULL,
  service   text        NOT NULL DEFAULT '',
  app       text        NOT NULL DEFAULT '',
  shard     smallint    NOT NULL DEFAULT 0,
  count     bigint      NOT NULL,
  PRIMARY KEY (tenant_id, hour, level, service, app, shard)
) WITH (fillfactor = 70);

CREATE TABLE log_counts_daily (
  tenant_id integer  NOT NULL,
  day       date     NOT NULL,
  level     text     NOT NULL,
  service   text     NOT NULL DEFAULT '',
  app       text     NOT NULL DEFAULT '',
  shard     smallint NOT NULL DEFAULT 0,
  count     bigint   NOT NULL,
  PRIMARY KEY (tenant_id, day, level, service, app, shard)
) WITH (fillfactor = 70);

INSERT INTO log_counts_hourly (tenant_id, hour, level, service, app, count)
  SELECT tenant_id, date_trunc('hour', minute, 'UTC'), level, service, app, sum(count)
  FROM log_counts GROUP BY 1, 2, 3, 4, 5;
INSERT INTO log_counts_daily (tenant_id, day, level, service, app, count)
  SELECT tenant_id, (minute AT TIME ZONE 'UTC')::date, level, service, app, sum(count)
  FROM log_counts GROUP BY 1, 2, 3, 4, 5;

-- One row per (tenant, day, level, service, app): what the seed systems called the daily summary.
CREATE VIEW daily_log_summary AS
  SELECT tenant_id, day, level, service, app, sum(count)::bigint AS count
  FROM log_counts_daily GROUP BY tenant_id, day, level, service, app;

-- Apps (seed 002): named by ingest (an unknown app is created) or through /api/v1/apps.
CREATE TABLE apps (
  tenant_id   integer     NOT NULL,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, name)
);
INSERT INTO apps (tenant_id, name) SELECT DISTINCT tenant_id, app FROM logs WHERE app IS NOT NULL;
