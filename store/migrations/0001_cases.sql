-- The system of record for regions, sources and cases. Geometry is WGS84 (SRID 4326).

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- The city's regions, synchronised from the geography at every start, so that queries over
-- history can join on them in PostGIS.
CREATE TABLE regions (
    code        text PRIMARY KEY,
    level       text NOT NULL CHECK (level IN ('district', 'street', 'village', 'grid')),
    name        text NOT NULL,
    parent_code text,
    geom        geometry(MultiPolygon, 4326) NOT NULL
);
CREATE INDEX regions_geom ON regions USING gist (geom);

-- Systems and channels that deliver cases.
CREATE TABLE sources (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    kind             text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    -- SHA-256 of the source's bearer token; NULL for sources that never call the gateway.
    credential_hash  text,
    -- The declarative field mapping (cockpit-events CaseMapping), NULL for built-in sources.
    mapping          jsonb,
    rate_per_minute  integer NOT NULL DEFAULT 600 CHECK (rate_per_minute > 0),
    last_delivery_at timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE cases (
    id               bigserial PRIMARY KEY,
    source_id        text NOT NULL REFERENCES sources (id),
    source_ref       text,
    category         text NOT NULL,
    urgency          text NOT NULL,
    tags             text[] NOT NULL DEFAULT '{}',
    title            text NOT NULL,
    description      text NOT NULL,
    location         geometry(Point, 4326),
    outside_district boolean NOT NULL DEFAULT false,
    street_code      text,
    village_code     text,
    grid_code        text,
    address          text,
    -- Personal data of the reporter (name, phone): served masked.
    reporter         jsonb,
    occurred_at      timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL,
    assignee         jsonb,
    dispatch_rule    text,
    leaders          text[] NOT NULL DEFAULT '{}',
    evaluation       jsonb,
    duplicate_of     bigint REFERENCES cases (id),
    -- The deadline clock: warn_at and due_at come from the category's time limit on the
    -- working calendar.
    deadline_limit   text,
    started_at       timestamptz,
    warn_at          timestamptz,
    due_at           timestamptz,
    warned           boolean NOT NULL DEFAULT false,
    overdue          boolean NOT NULL DEFAULT false,
    -- When the next overdue alarm is due; NULL once acknowledged or closed.
    next_alarm_at    timestamptz,
    closed_at        timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, source_ref)
);
CREATE INDEX cases_location ON cases USING gist (location);
-- Radius queries measure on the spheroid (location::geography); this index serves them.
CREATE INDEX cases_location_geog ON cases USING gist ((location::geography));
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_street ON cases (street_code, status);
CREATE INDEX cases_village ON cases (village_code);
CREATE INDEX cases_grid ON cases (grid_code);
CREATE INDEX cases_created ON cases (created_at, id);
CREATE INDEX cases_category ON cases (category, status);
CREATE INDEX cases_text ON cases USING gin ((title || ' ' || description) gin_trgm_ops);
CREATE INDEX cases_warn_due ON cases (warn_at) WHERE NOT warned AND closed_at IS NULL;
CREATE INDEX cases_alarm_due ON cases (next_alarm_at) WHERE next_alarm_at IS NOT NULL;

-- Every action on a case, in order. Written in the same transaction as the change.
CREATE TABLE case_timeline (
    id          bigserial PRIMARY KEY,
    case_id     bigint NOT NULL REFERENCES cases (id),
    at          timestamptz NOT NULL,
    actor_user  text NOT NULL,
    actor_role  text NOT NULL,
    action      text,
    from_status text,
    to_status   text NOT NULL,
    content     text NOT NULL DEFAULT '',
    attachments jsonb NOT NULL DEFAULT '[]',
    position    geometry(Point, 4326)
);
CREATE INDEX case_timeline_case ON case_timeline (case_id, id);

-- Deadline warnings and overdue alarms, each sent once per instance fleet.
CREATE TABLE case_alarms (
    id              bigserial PRIMARY KEY,
    case_id         bigint NOT NULL REFERENCES cases (id),
    kind            text NOT NULL CHECK (kind IN ('warning', 'overdue')),
    raised_at       timestamptz NOT NULL,
    acknowledged_at timestamptz,
    acknowledged_by text
);
CREATE INDEX case_alarms_case ON case_alarms (case_id, id);

-- Photos, audio and files, stored on disk under their SHA-256.
CREATE TABLE attachments (
    id           text PRIMARY KEY,
    case_id      bigint NOT NULL REFERENCES cases (id),
    sha256       text NOT NULL,
    size_bytes   bigint NOT NULL,
    content_type text NOT NULL,
    file_name    text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachments_case ON attachments (case_id);
