-- Case rules edited by operators (the category tree with its time limits, the dispatch
-- rules, the working calendar): each document replaces its file of `cases/` while it is
-- here. `version` comes from one sequence, so every instance can tell that something
-- changed by the largest version it has seen.
CREATE SEQUENCE config_documents_version;
CREATE TABLE config_documents (
    name       text PRIMARY KEY,
    body       jsonb NOT NULL,
    version    bigint NOT NULL DEFAULT nextval('config_documents_version'),
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
