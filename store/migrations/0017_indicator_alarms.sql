-- Indicator thresholds and alarms (issue 18, item 4).

-- An indicator's threshold (cockpit-indicators' Threshold, whole), read at every evaluation,
-- so an edit is in force on every instance at once; `version` counts its edits, each audited
-- in its transaction with the threshold before and after.
CREATE TABLE indicator_thresholds (
    indicator  text PRIMARY KEY REFERENCES indicator_catalogue (id) ON DELETE CASCADE,
    threshold  jsonb NOT NULL,
    version    bigint NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Where one indicator in one region stands (cockpit-indicators' AlarmState). `version` makes
-- each step a compare-and-set, so two instances taking values of one pair at once take them
-- one after the other.
CREATE TABLE indicator_alarm_states (
    indicator text NOT NULL REFERENCES indicator_catalogue (id) ON DELETE CASCADE,
    region    text NOT NULL,
    state     jsonb NOT NULL,
    version   bigint NOT NULL,
    PRIMARY KEY (indicator, region)
);

-- One alarm episode: from leaving normal to coming back. At most one open per indicator and
-- region (the partial unique index). A red episode wants one case (`case_wanted`, the case's
-- words), opened through the intake with source `alarm` and source reference
-- `indicator-alarm:<id>`, not before `case_after` (the end of a do-not-disturb window).
CREATE TABLE indicator_alarms (
    id              bigserial PRIMARY KEY,
    indicator       text NOT NULL REFERENCES indicator_catalogue (id) ON DELETE CASCADE,
    region          text NOT NULL,
    level           text NOT NULL CHECK (level IN ('yellow', 'red')),
    peak            text NOT NULL CHECK (peak IN ('yellow', 'red')),
    value           double precision NOT NULL,
    measure         double precision NOT NULL,
    opened_at       timestamptz NOT NULL,
    changed_at      timestamptz NOT NULL,
    cleared_at      timestamptz,
    acknowledged_by text,
    acknowledged_at timestamptz,
    case_wanted     jsonb,
    case_after      timestamptz,
    case_id         bigint REFERENCES cases (id),
    live_regions    text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX indicator_alarms_one_open ON indicator_alarms (indicator, region) WHERE cleared_at IS NULL;
CREATE INDEX indicator_alarms_wanting_cases ON indicator_alarms (case_after)
    WHERE case_wanted IS NOT NULL AND case_id IS NULL;
CREATE INDEX indicator_alarms_recent ON indicator_alarms (opened_at DESC);
