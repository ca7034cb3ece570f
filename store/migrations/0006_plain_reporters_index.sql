-- Start-up seals any reporter still stored in the clear; this keeps that check from
-- scanning every case (normally the index is empty).
CREATE INDEX cases_plain_reporter ON cases (id) WHERE reporter IS NOT NULL;
