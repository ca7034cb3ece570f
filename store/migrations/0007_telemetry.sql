-- Telemetry: every accepted value, one row per (device, metric, time), in daily partitions
-- that the server creates ahead and drops after the retention period; and aggregates per
-- minute and per hour for charts, kept exact by counting only rows that were new (a
-- message delivered twice after a crash is stored once and counted once).
CREATE TABLE readings (
    device_id text NOT NULL,
    metric    text NOT NULL,
    at        timestamptz NOT NULL,
    value     double precision NOT NULL,
    PRIMARY KEY (device_id, metric, at)
) PARTITION BY RANGE (at);
-- Times outside every daily partition (a device's clock far off) land here.
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

CREATE TABLE reading_aggregates (
    device_id  text NOT NULL,
    metric     text NOT NULL,
    resolution text NOT NULL CHECK (resolution IN ('minute', 'hour')),
    bucket     timestamptz NOT NULL,
    count      bigint NOT NULL,
    sum        double precision NOT NULL,
    min        double precision NOT NULL,
    max        double precision NOT NULL,
    PRIMARY KEY (device_id, metric, resolution, bucket)
);

-- What cameras and other devices report on their events topic, once per (device, time, kind).
CREATE TABLE device_events (
    id          bigserial PRIMARY KEY,
    device_id   text NOT NULL REFERENCES devices (id),
    at          timestamptz NOT NULL,
    kind        text NOT NULL,
    confidence  double precision NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (device_id, at, kind)
);

-- Each device's newest connection status (online, or the broker's last will).
CREATE TABLE device_status (
    device_id text PRIMARY KEY REFERENCES devices (id),
    online    boolean NOT NULL,
    at        timestamptz NOT NULL
);

-- Alarms raised by the rules: at most one that is not cleared per (device, rule), enforced
-- here as well as by the rule engine.
CREATE TABLE alarms (
    id              bigserial PRIMARY KEY,
    device_id       text NOT NULL REFERENCES devices (id),
    rule_id         text NOT NULL,
    severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'major', 'critical')),
    metric          text NOT NULL,
    state           text NOT NULL CHECK (state IN ('active', 'acknowledged', 'cleared')),
    raised_at       timestamptz NOT NULL,
    raised_value    double precision NOT NULL,
    peak_value      double precision NOT NULL,
    peak_at         timestamptz NOT NULL,
    acknowledged_by text,
    acknowledged_at timestamptz,
    cleared_at      timestamptz,
    cleared_value   double precision,
    street_code     text,
    village_code    text,
    grid_code       text,
    storm_id        text,
    -- Set when the rule maps to a case and the severity reaches [iot] case_severity: the
    -- case is opened (idempotently) until case_id is filled, after a crash too.
    case_wanted     jsonb,
    case_id         bigint REFERENCES cases (id),
    case_closed_at  timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX alarms_one_open ON alarms (device_id, rule_id) WHERE state <> 'cleared';
CREATE INDEX alarms_open_by_region ON alarms (street_code, village_code, grid_code) WHERE state <> 'cleared';
CREATE INDEX alarms_case ON alarms (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX alarms_case_pending ON alarms (id) WHERE case_wanted IS NOT NULL AND case_id IS NULL;
CREATE INDEX alarms_raised ON alarms (raised_at DESC);
