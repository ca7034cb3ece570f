-- The cases the demonstration's simulated handlers follow (cockpit-server/src/demo/, with
-- [demo] present only) and how many moves they have made on each, so that a restart goes
-- on following them where it left off. A case is let go (its row deleted) when its story
-- is over, when it is left to go overdue, or when a person steps in.
CREATE TABLE demo_followed (
    case_id bigint PRIMARY KEY REFERENCES cases (id),
    step    integer NOT NULL DEFAULT 0 CHECK (step >= 0),
    since   timestamptz NOT NULL DEFAULT now()
);
