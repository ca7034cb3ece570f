-- Why an indicator alarm ended (issue 18, item 4: thresholds edited live): `value` (the
-- values came back past the clear line and held there), `edit` (the threshold was edited and
-- the value that stands no longer calls for a level) or `disabled` (the threshold was
-- switched off). NULL while open, and for alarms cleared before the reason was recorded.
ALTER TABLE indicator_alarms
    ADD COLUMN cleared_by text CHECK (cleared_by IN ('value', 'edit', 'disabled'));
