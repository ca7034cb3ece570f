-- Camera detections that open cases: what case each wants (category, urgency, title,
-- source reference), and the case it got. Detections of one camera and kind within the
-- configured cooldown share a source reference, hence one case.
ALTER TABLE device_events ADD COLUMN case_wanted jsonb, ADD COLUMN case_id bigint REFERENCES cases (id);
CREATE INDEX device_events_wanting_cases ON device_events (id) WHERE case_wanted IS NOT NULL AND case_id IS NULL;
