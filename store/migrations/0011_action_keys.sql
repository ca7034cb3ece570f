-- Idempotency keys of case actions: a phone that lost its connection sends an action
-- again with the key it chose when the worker acted; the key commits with the action, so
-- a repeat finds it and is answered without applying the action twice. Keys are kept
-- for `ACTION_KEY_DAYS` (pruned by the deadline scheduler).
CREATE TABLE action_keys (
    username       text NOT NULL,
    key            text NOT NULL,
    case_id        bigint NOT NULL,
    request_sha256 text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (username, key)
);
CREATE INDEX action_keys_created ON action_keys (created_at);
