-- The minute and hour aggregates are computed from the stored readings, a closed minute at a
-- time, off the writers' path (issue 20, item 3): a batch of readings marks the minutes it
-- wrote into as pending, in its own transaction, and the rollup (any instance) takes a
-- pending minute, counts its readings again, replaces the minute's aggregates and adds the
-- difference to the hour's. What is pending is read from the readings themselves, so the
-- history answers the same before and after.
CREATE TABLE reading_minutes_pending (
    minute    timestamptz PRIMARY KEY,
    marked_at timestamptz NOT NULL DEFAULT now()
);

-- A minute's readings found by time: the rows arrive in time order, so a block range index
-- costs almost nothing to keep.
CREATE INDEX readings_at_brin ON readings USING brin (at);
