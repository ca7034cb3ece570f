-- The device registry: each sensor placed on the map and tagged with its street, village
-- and grid at registration; its MQTT credential stored as a SHA-256 (the secret is 256
-- random bits, shown once at registration).
CREATE TABLE devices (
    id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    device_type      text NOT NULL,
    location         geometry(Point, 4326) NOT NULL,
    outside_district boolean NOT NULL DEFAULT false,
    street_code      text,
    village_code     text,
    grid_code        text,
    metadata         jsonb NOT NULL DEFAULT '{}',
    credential_hash  text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_location ON devices USING gist (location);
CREATE INDEX devices_street ON devices (street_code);
CREATE INDEX devices_grid ON devices (grid_code);
CREATE INDEX devices_type ON devices (device_type);
