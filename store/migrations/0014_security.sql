-- Failed logins per username and client address, shared by every instance. The tender's
-- rule (five failures, fifteen minutes) locks the address that failed, not the account,
-- so that nobody can lock an owner out by typing wrong passwords on purpose; failures
-- spread over many addresses slow the account instead (`login_throttle`). Rows also
-- exist for usernames that have no account, so that those are answered alike. Rows
-- older than a day are pruned.
CREATE TABLE login_failures (
    username     text NOT NULL,
    address      text NOT NULL,
    -- Failures in a row since the last lock or success: five lock the address.
    failures     integer NOT NULL DEFAULT 0,
    -- Every failure since `last_at` fell out of the lock period: what the owner and the
    -- security administrator are told, and what the throttle counts.
    total        integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    last_at      timestamptz NOT NULL,
    PRIMARY KEY (username, address)
);
CREATE INDEX login_failures_last ON login_failures (last_at);

-- The next moment an account under a spread attack takes a login attempt from an
-- address it has never logged in from.
CREATE TABLE login_throttle (
    username text PRIMARY KEY,
    next_at  timestamptz NOT NULL
);

-- The account-wide count and lock they replace.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

-- When each password was set, for the password's maximum age (`[auth] password_max_age_days`).
ALTER TABLE users ADD COLUMN password_changed_at timestamptz NOT NULL DEFAULT now();

-- Open311 API keys, one per citizen application, stored as SHA-256; each has its own
-- request budget.
CREATE TABLE open311_keys (
    id          bigserial PRIMARY KEY,
    application text NOT NULL,
    key_sha256  text NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    revoked_at  timestamptz
);
