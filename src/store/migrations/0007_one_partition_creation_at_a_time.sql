-- Partition creation that neither deadlocks nor hides rows from a search.
--
-- Every worker creates the partitions of the days in the batch it holds, and maintenance creates
-- the days ahead and moves rows waiting in logs_default into their day. The function of 0001 had
-- three faults:
-- - it serialised only the creations of one day: two days created at once deadlocked (each had
--   moved rows out of logs_default and its ATTACH then waited for what the other held), and the
--   loser's rows went to logs_default;
-- - rows another writer had just put into logs_default for the day were not moved (the DELETE's
--   snapshot predated them), so the ATTACH's check of the default partition failed;
-- - a search that began meanwhile could miss every moved row: it took the list of partitions
--   before the move (ATTACH locks `logs` only in SHARE UPDATE EXCLUSIVE mode, which readers pass)
--   and its snapshot after it, so it read logs_default without them and the new partition not
--   at all.
--
-- Now one lock serialises every creation. Moving rows takes `logs` in ACCESS EXCLUSIVE mode
-- first, so that a search waits and then plans with the new partition; creating an empty day,
-- the usual case, keeps to ATTACH's own locks, so searches and writes go on. Rows that reach
-- logs_default for the day in between make the ATTACH fail rather than be left behind: the
-- caller tries again, and then moves them. A lock that takes longer than 5 s to get (a long
-- export holds `logs`) fails the call instead of stopping every reader and writer queued behind
-- it.
CREATE OR REPLACE FUNCTION logpipe_ensure_partition(day date) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := format('logs_%s', to_char(day, 'YYYYMMDD'));
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
  waiting boolean;
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN;
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('logpipe_ensure_partition'));
  -- Re-check with a fresh catalog scan: to_regclass reads the relation cache, which an advisory
  -- lock doesn't refresh, so it can miss a partition another session just committed.
  IF EXISTS (SELECT 1 FROM pg_class WHERE relname = part
             AND relnamespace = current_schema()::regnamespace) THEN
    RETURN;
  END IF;
  PERFORM set_config('lock_timeout', '5s', true);
  waiting := EXISTS (SELECT 1 FROM logs_default WHERE ts >= lo AND ts < hi);
  IF waiting THEN
    LOCK TABLE ONLY logs IN ACCESS EXCLUSIVE MODE;
  ELSE
    LOCK TABLE ONLY logs IN SHARE UPDATE EXCLUSIVE MODE;
  END IF;
  LOCK TABLE logs_default IN ACCESS EXCLUSIVE MODE;
  EXECUTE format('CREATE TABLE %I (LIKE logs INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part);
  IF waiting THEN
    EXECUTE format('WITH moved AS (DELETE FROM logs_default WHERE ts >= $1 AND ts < $2'
                   ' RETURNING *) INSERT INTO %I SELECT * FROM moved', part) USING lo, hi;
  END IF;
  EXECUTE format('ALTER TABLE logs ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
END
$$;
