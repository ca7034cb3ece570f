-- Generated histories (cockpit-sim): one row per seeding, written in the transaction that
-- wrote its cases, timelines and people, so that a database has a history exactly when it
-- has this row (the first start with --demo seeds only when there is none).
CREATE TABLE history_seeds (
    id          bigserial PRIMARY KEY,
    seed        bigint NOT NULL,
    days        integer NOT NULL,
    cases       bigint NOT NULL,
    -- The ids the history's cases took (first..last, inclusive).
    first_case  bigint NOT NULL,
    last_case   bigint NOT NULL,
    ends_at     timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
