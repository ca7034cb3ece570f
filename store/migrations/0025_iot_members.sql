-- The instances that take one district's MQTT messages from the city broker, each with a
-- plain subscription to every device (issue 20): each stores and judges the grids it
-- claims, the grids being split among the members alive by rendezvous hashing, so that a
-- device's readings all meet one rule engine. An instance renews its row every second; a
-- member is alive while `seen_at` is within the lease, and counts for the split once it has
-- been alive for a grace period (an instance starting sees the others first).
CREATE TABLE iot_members (
    district  text NOT NULL,
    member    text NOT NULL,
    joined_at timestamptz NOT NULL,
    seen_at   timestamptz NOT NULL,
    PRIMARY KEY (district, member)
);
