-- Access control: departments, roles and their permissions, users with their region scope,
-- sessions, the hash-chained audit trail, and the reporter's personal data sealed at rest.

-- The department tree (departments own cases and users). Synchronised from
-- data/<city>/departments.json at every start; `name` is what dispatch rules and case
-- assignees name.
CREATE TABLE departments (
    id         text PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    parent_id  text REFERENCES departments (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Roles and the permissions bound to them (cockpit-access names). The shipped bundles are
-- inserted at start when missing; the security administrator may change them after.
CREATE TABLE roles (
    role         text PRIMARY KEY,
    permissions  text[] NOT NULL,
    -- A second factor (TOTP) is required of every user holding this role.
    require_totp boolean NOT NULL DEFAULT false,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                   bigserial PRIMARY KEY,
    username             text NOT NULL UNIQUE CHECK (username ~ '^[A-Za-z0-9_.-]{2,64}$'),
    display_name         text NOT NULL,
    -- argon2id, PHC string format.
    password_hash        text NOT NULL,
    department_id        text REFERENCES departments (id),
    -- What the user may see: the whole district, a street, a village or a grid.
    scope_level          text NOT NULL CHECK (scope_level IN ('district', 'street', 'village', 'grid')),
    scope_code           text NOT NULL,
    active               boolean NOT NULL DEFAULT true,
    failed_logins        integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    -- The TOTP secret, sealed like personal data; enabled once the user confirmed a code.
    totp_sealed          bytea,
    totp_enabled         boolean NOT NULL DEFAULT false,
    totp_last_step       bigint,
    must_change_password boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    user_id bigint NOT NULL REFERENCES users (id),
    role    text NOT NULL REFERENCES roles (role),
    PRIMARY KEY (user_id, role)
);

-- One row per login. The refresh token is stored as its SHA-256 only; access tokens are
-- signed, short-lived and name their session, so revoking the session revokes them.
CREATE TABLE sessions (
    id             text PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id),
    refresh_digest text NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL,
    refreshed_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    address        text NOT NULL,
    -- A session that may only enrol a second factor (its role requires one the user lacks).
    enrolment_only boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

-- The audit trail: append-only, each record chained to the one before by SHA-256
-- (cockpit-access `chain_hash`), so that any change, deletion or reordering is found by
-- `cockpit-server audit-verify`. `detail` is JSON text, kept byte for byte as hashed.
CREATE TABLE audit_log (
    seq       bigint PRIMARY KEY,
    at        timestamptz NOT NULL,
    actor     text NOT NULL,
    role      text NOT NULL,
    address   text NOT NULL,
    action    text NOT NULL,
    object    text NOT NULL,
    result    text NOT NULL,
    detail    text NOT NULL,
    prev_hash text NOT NULL,
    hash      text NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

-- The end of the chain; appenders lock it, so records are chained in commit order.
CREATE TABLE audit_head (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    seq      bigint NOT NULL,
    hash     text NOT NULL
);
INSERT INTO audit_head (seq, hash) VALUES (0, repeat('0', 64));

CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'audit_head' AND TG_OP = 'UPDATE' AND NEW.seq > OLD.seq THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only (% on %)', TG_OP, TG_TABLE_NAME;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- The reporter's personal data: sealed (XChaCha20-Poly1305 under the configured key ring)
-- and, for every response, its masked form. The plain column of 0001 is emptied into
-- these at start (`Store::seal_reporters`).
ALTER TABLE cases ADD COLUMN reporter_sealed bytea;
ALTER TABLE cases ADD COLUMN reporter_masked jsonb;
CREATE INDEX cases_assignee_department ON cases ((assignee ->> 'department'));
