-- Indicator values pulled from other systems' HTTP JSON APIs (issue 18): per pull, the
-- address, the headers it sends (a token among them: sent as stored, never answered in
-- full), a JSONPath per region, the schedule, and what its last attempts did.

CREATE TABLE indicator_pulls (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    indicator        text NOT NULL REFERENCES indicator_catalogue (id) ON DELETE CASCADE,
    url              text NOT NULL,
    -- [{"name": ..., "value": ...}]: sent with every request.
    headers          jsonb NOT NULL DEFAULT '[]',
    -- [{"region": ..., "path": ...}]: the value of each region, picked by a JSONPath (RFC 9535).
    picks            jsonb NOT NULL,
    -- NULL: from the indicator's frequency.
    interval_seconds integer CHECK (interval_seconds > 0),
    timeout_seconds  integer NOT NULL CHECK (timeout_seconds > 0),
    enabled          boolean NOT NULL DEFAULT true,
    -- Raised by every edit, so an attempt under the old definition does not write its schedule.
    version          bigint NOT NULL DEFAULT 1,
    -- When it is next fetched. An instance claims a due pull by moving this past the
    -- attempt's timeout under a row lock (FOR UPDATE SKIP LOCKED), so of several instances
    -- one fetches each due time.
    next_due         timestamptz NOT NULL,
    -- Failed attempts since the last success: the backoff's exponent.
    failures         integer NOT NULL DEFAULT 0,
    last_attempt     timestamptz,
    last_success     timestamptz,
    last_error       text,
    updated_by       text NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX indicator_pulls_due ON indicator_pulls (next_due) WHERE enabled;
