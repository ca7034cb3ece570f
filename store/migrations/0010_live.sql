-- The live log: every change a live stream carries (a case created or acted on, an alarm,
-- a device value), numbered by one counter row so that offsets are consecutive, commit in
-- order and are the same on every instance. A change and its log entry commit in one
-- transaction; `pg_notify('cockpit_live', last)` in the same transaction wakes every
-- instance at commit. The epoch is the log's: it changes only if the log is reset.
CREATE TABLE live_head (
    id    boolean PRIMARY KEY DEFAULT true CHECK (id),
    epoch bigint NOT NULL,
    last  bigint NOT NULL DEFAULT 0
);
INSERT INTO live_head (epoch) VALUES ((extract(epoch FROM clock_timestamp()) * 1000)::bigint);

CREATE TABLE live_log (
    seq      bigint PRIMARY KEY,
    channel  text NOT NULL,
    key      text NOT NULL,
    -- street, village and grid codes (those known)
    regions  text[] NOT NULL DEFAULT '{}',
    lon      float8,
    lat      float8,
    layer    text,
    -- cases: the assignee, for those who see by assignment
    assignee jsonb,
    payload  jsonb NOT NULL,
    at       timestamptz NOT NULL DEFAULT now()
);
-- Pruning keeps the newest rows of each channel.
CREATE INDEX live_log_channel ON live_log (channel, seq);

-- The latest value of each alarm and device key: the snapshot of those channels.
CREATE TABLE live_state (
    channel text NOT NULL,
    key     text NOT NULL,
    seq     bigint NOT NULL,
    regions text[] NOT NULL DEFAULT '{}',
    lon     float8,
    lat     float8,
    layer   text,
    payload jsonb NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, key)
);
CREATE INDEX live_state_regions ON live_state USING gin (regions);
