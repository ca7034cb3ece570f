-- The minute and hour aggregates are added off the writers' path (issue 20, item 3): each
-- batch of readings appends, in its own transaction, what it adds to each device, metric
-- and minute (only values that were new), without a key to check; the rollup (any
-- instance) takes the partials of closed minutes and adds them to the aggregates, a minute
-- and its hour, deleting them in the same transaction. Until then the history answers
-- those minutes from the readings themselves.
CREATE TABLE reading_partials (
    device_id text NOT NULL,
    metric    text NOT NULL,
    minute    timestamptz NOT NULL,
    count     bigint NOT NULL,
    sum       double precision NOT NULL,
    min       double precision NOT NULL,
    max       double precision NOT NULL
);
CREATE INDEX reading_partials_minute ON reading_partials (minute);
