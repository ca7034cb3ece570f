-- Indicators from outside our own data (issue 18): the catalogue people edit, the values of
-- each indicator per region and period with where each came from, and the systems that
-- push values with their bearer tokens.

-- One indicator of the catalogue, whole (cockpit-indicators' CatalogueEntry). Read on every
-- request, so an edit is in force on every instance at once.
CREATE TABLE indicator_catalogue (
    id         text PRIMARY KEY,
    entry      jsonb NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A value per indicator, region and period (the local date its period starts on). One row
-- per key: a push of the same value again changes nothing.
CREATE TABLE indicator_values (
    indicator   text NOT NULL REFERENCES indicator_catalogue (id) ON DELETE CASCADE,
    region      text NOT NULL,
    period      date NOT NULL,
    value       double precision NOT NULL CHECK (value = value AND value <> 'Infinity' AND value <> '-Infinity'),
    source      text NOT NULL CHECK (source IN ('computed', 'pushed', 'pulled', 'manual')),
    -- The push source's id, the user who entered it, or the definition that computed it.
    source_name text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (indicator, region, period)
);

-- A system that pushes values (HTTP or MQTT), with the SHA-256 (hex) of its bearer token and the
-- indicators it may push (empty: none).
CREATE TABLE indicator_sources (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    token_sha256 text NOT NULL,
    indicators   text[] NOT NULL DEFAULT '{}',
    enabled      boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now()
);
