-- What else the store mirrors of the portal: owners, pipelines and stages, sequences and
-- enrollments, lists and memberships; where a merged record went; sync run outcomes.
ALTER TABLE records ADD COLUMN merged_into TEXT;

CREATE TABLE owners (
    portal TEXT NOT NULL,
    id TEXT NOT NULL,
    user_id BIGINT,
    email TEXT,
    first_name TEXT,
    last_name TEXT,
    archived INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal, id)
);

CREATE TABLE pipeline_stages (
    portal TEXT NOT NULL,
    object_type TEXT NOT NULL,
    pipeline_id TEXT NOT NULL,
    pipeline_label TEXT NOT NULL,
    stage_id TEXT NOT NULL,
    label TEXT NOT NULL,
    display_order INTEGER NOT NULL,
    probability DOUBLE PRECISION,
    is_closed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (portal, object_type, pipeline_id, stage_id)
);

CREATE TABLE sequences (
    portal TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    user_id TEXT,
    PRIMARY KEY (portal, id)
);

CREATE TABLE sequence_enrollments (
    portal TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    sequence_id TEXT NOT NULL,
    enrollment_id TEXT,
    enrolled_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (portal, contact_id, sequence_id)
);

CREATE TABLE lists (
    portal TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    object_type_id TEXT NOT NULL,
    processing_type TEXT NOT NULL,
    PRIMARY KEY (portal, id)
);

CREATE TABLE list_memberships (
    portal TEXT NOT NULL,
    list_id TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (portal, list_id, record_id)
);

CREATE TABLE sync_runs (
    portal TEXT NOT NULL,
    stream TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    ok INTEGER NOT NULL,
    records BIGINT NOT NULL,
    error TEXT
);
CREATE INDEX sync_runs_recent ON sync_runs (portal, stream, finished_at);
