-- Audit records are written with the change they record into `audit_pending` (no lock, no
-- hash), and chained into `audit_log` shortly after by the chainer (`Store::chain_audit`),
-- which alone takes the head lock. So committing a change never waits for another
-- transaction's commit, and the chain still follows one order. Pending records cannot be
-- changed, only moved into the chain.
CREATE TABLE audit_pending (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,
    role    text NOT NULL,
    address text NOT NULL,
    action  text NOT NULL,
    object  text NOT NULL,
    result  text NOT NULL,
    detail  text NOT NULL
);
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
    FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
