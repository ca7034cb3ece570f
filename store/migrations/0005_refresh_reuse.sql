-- The refresh token a session had before its last refresh: presented again, it was copied
-- (stolen), and the session is revoked.
ALTER TABLE sessions ADD COLUMN previous_refresh_digest text;
CREATE INDEX sessions_previous_refresh ON sessions (previous_refresh_digest) WHERE revoked_at IS NULL;
