-- Indexes for the read API, each measured at ingest in docs/PERFORMANCE.md.
--
-- Newest first, with or without filters, and keyset pages on (ts, id): an ordered scan that stops
-- after `limit` rows instead of sorting whole partitions (the explorer's first page was 0.7 s on
-- 1M rows without it). Rows arrive in about time order, so inserts go to the right edge of the
-- tree. It also serves every time range, which the BRIN on ts did: that one goes.
CREATE INDEX logs_tenant_ts_id ON logs (tenant_id, ts, id);
DROP INDEX logs_ts_brin;

-- GET/DELETE /api/v1/logs/{id}: ids grow with arrival, so a BRIN over them finds the few block
-- ranges that can hold an id in each partition at almost no cost at ingest (a btree on id would
-- add a tree insert per row).
CREATE INDEX logs_id_brin ON logs USING brin (id) WITH (pages_per_range = 32);
