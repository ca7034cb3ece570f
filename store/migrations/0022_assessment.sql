-- Assessment models and the publication of their monthly results (issue 18, item 5).

-- A model (cockpit-indicators' Model, whole): the items streets or departments are
-- assessed on, their weights and scoring rules. Read at every request, so an edit is in
-- force on every instance at once; each change audited in its transaction.
CREATE TABLE assessment_models (
    id         text PRIMARY KEY,
    model      jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT 1,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Whether a model's results for a month (its first day) are published: those who keep
-- the models see every month's; everyone else only published ones. No row: withheld.
CREATE TABLE assessment_publications (
    model      text NOT NULL REFERENCES assessment_models (id) ON DELETE CASCADE,
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    published  boolean NOT NULL,
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL,
    PRIMARY KEY (model, month)
);
