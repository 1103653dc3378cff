-- Message search (q= in /api/v1/logs) uses trigram indexes, which the maintenance loop builds on
-- closed daily partitions only: a trigram GIN index costs too much at ingest to keep on the
-- partition being written (docs/PERFORMANCE.md). pg_trgm is a trusted extension (PostgreSQL 13+),
-- so the owner of the database may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
