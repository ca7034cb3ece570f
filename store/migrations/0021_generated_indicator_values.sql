-- Sample values for the indicator catalogue (issue 18): a demonstration's district has
-- fourteen months of values per street before any other system sends one. They are
-- labelled where they are stored: source `generated`, never taken for a real value.
ALTER TABLE indicator_values DROP CONSTRAINT indicator_values_source_check;
ALTER TABLE indicator_values ADD CONSTRAINT indicator_values_source_check
    CHECK (source IN ('computed', 'pushed', 'pulled', 'manual', 'generated'));
